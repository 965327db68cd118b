// Package se defines the secure element boundary: the one place keys live and the only code that changes a purse.
//
// # Claims and the claim window
//
// A payment is claimable by its payee for protocol.ClaimWindow of ledger
// time. A payee SE refuses (CodeClaimExpired, nothing changed) a payment
// whose Time + ClaimWindow is at or below its ledger floor, the highest
// ledger-signed time it has applied. Every applied SyncResult that moves
// the ledger time on is recorded in the SE's log as an EntrySync entry
// (body protocol.SyncApplied), uploaded with the next sync. So once the
// payee's log shows a sync entry with Time >= payment.Time + ClaimWindow
// and no receive entry for the payment before it, the ledger knows the
// payee SE can never claim it and expires it, returning the value to the
// payer's account.
//
// # Sweeps
//
// A merchant's takings are swept by the ledger from its purse to its
// account; SyncResult.Swept is the cumulative total. ApplySyncResult
// debits the purse by what is above the sweep already applied (never
// less, never twice) and refuses, with CodeBadSync and nothing changed,
// a sweep above the balance: the ledger can only sweep value the purse
// received. The debit and its EntrySync entry are one atomic write.
//
// # Standing requests: the payer-presented flow
//
// A payee (a shop counter, a merchant's sticker) publishes one standing
// request: a PaymentRequest signed by its SE with amount 0 (the payer
// chooses), the all-zero nonce and a long expiry (its certificate's
// NotAfter by default). The payer's SE pays it as often as the payer
// likes (the "already paid this request" check applies to real nonces
// only) and hands over, for instance as a QR code the payee scans, a
// PaymentBundle addressed to the payee's key.
//
// Only the SE holding the payee key named in the payment can claim it:
// the payment is signed over the payee's KeyID and Receive checks it is
// addressed to itself. Each payment is accepted once: the SE remembers
// (payer, counter) of every standing payment until its ledger floor
// passes payment.Time + ClaimWindow, after which the claim-window rule
// refuses the payment anyway, so a QR photographed and scanned twice is
// refused (CodeAlreadyAccepted) and the memory stays bounded by the claim
// window in ledger time, which a wallet clock set forward cannot shorten.
// A payee SE rolled back to an earlier state could accept a payment twice;
// the ledger catches it, since it records one payment per (payer, counter)
// and the rolled-back SE's log forks (two entries for one counter: an
// equivocation proof). An SE that issued no standing request refuses
// all-zero-nonce payments (CodeNonceUnknown).
//
// # Receive-only devices
//
// A device certificate with Limits.PerPayment 0 is receive-only (a
// merchant device whose takings the ledger sweeps): Pay and Redeem refuse
// with CodeReceiveOnly and change nothing, and so does Reserve, since
// value loaded into such a purse could never leave it.
package se
