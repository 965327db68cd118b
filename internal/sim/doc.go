// Package sim is offpay's adversarial simulator (`offpay sim`), in the
// spirit of TigerBeetle's VOPR: from one seed it generates a world of
// people, merchants and attackers, runs their offline payments, syncs,
// torn transfers, lost phones, clones and forgeries against a real ledger
// (ledger.Service on a fresh SQLite file, or PostgreSQL) and real virtual
// secure elements (se/vse), checks invariants after every step, and
// shrinks a failing run to the few steps that still fail.
//
// # Determinism
//
// A seed and a Config fix everything the simulator decides: the people and
// devices, every step (who pays whom, how much, which messages get lost,
// when time jumps and by how much, the attackers' choices and the order of
// uploads) and the drain's order. The ledger runs on an injected clock
// (ledger.Options.Clock) and every SE call gets its time explicitly. The
// SEs' keys and request nonces still come from crypto/rand (se/vse has no
// way to inject them), so nothing the simulator decides or reports depends
// on a key's bytes: devices are named by index, reports are built in index
// order, never by iterating a map. TestDeterministic runs seeds twice and
// compares the reports byte for byte.
//
// A program is a list of steps (program.go) with no randomness of their
// own, so any subset of it can run: `offpay sim --seed N --steps LIST`
// replays a subset, and Shrink drops whole attacks, devices and people,
// then single steps (ddmin), while the same invariant still fails.
//
// # Invariants
//
// After every step: withdrawals never exceed deposits; a payment whose
// payer's SE recorded the payee's receipt never comes back expired; an
// honest device's upload is never refused, nor the ledger's answer by its
// SE; an honest SE never accepts a payment above the payer's per-payment
// limit, nor a replayed one; replaying an applied upload moves none of the
// ledger's figures; an online payment the ledger refuses moves nothing,
// one it makes debits the payer's account by exactly its amount (never
// below zero) and credits the payee's at most that, its receipt verifies
// and answers the request, the same payment sent again gets the same
// receipt and moves nothing, and a forged request or a revoked payer is
// never paid (online.go). Every Config.CheckEvery steps and at the end, from
// ledger.Service.Report: ConservationOK, and the identity
// Issued + Losses + Unassessed == Accounts + Outstanding (Unassessed, the
// unexplained device deficits, read by name: 0 while the ledger's report
// has no such field); Issued equals deposits less withdrawals and is not
// negative; settled payments never decrease and never outnumber the
// payments payees' SEs accepted.
//
// At the end comes the drain (drain.go): every honest device syncs, lost
// phones are reported and revoked, the clock passes every offline deadline
// and claim window, the ledger assesses what is overdue, everyone syncs
// twice more, and again after one more day. Then: each honest device's
// ledger position equals its SE's purse and none of its payments still
// awaits a verdict; no honest device is revoked (but lost ones) and no
// honest account frozen; each honest person's account plus purses is at
// least deposits - withdrawals + what their SEs accepted - what payees'
// SEs accepted from them + what online payments moved into their accounts
// - out of them (a lost purse counts with its unsent redeems and
// the payments that never reached anyone; "at least", since a payment
// returned from a lost payee whose SE had accepted it is a fair windfall;
// an unfair one raises the operator's true loss, bounded below); every
// device left below zero is
// revoked, whether its own log proves the overspend or its deficit is
// unexplained (its log never reached its last payment) and its deadline
// has passed; its deficit is then recovered or recorded as a loss
// (conservation checks the cover); nothing is left unassessed;
// outstanding is not negative.
//
// # The loss bound
//
// The operator's true loss is computed from outside the ledger's books:
//
//	liabilities = account balances
//	            + the purses of honest devices (a lost one: its ledger position, if positive;
//	              less the forfeit of loads a regression took, its owner's debt: regress.go)
//	            + for each attacker's device not revoked, what the ledger would honour:
//	              its position, at most what its SEs hold (a forger: its position), if positive
//	true loss   = liabilities - (deposits - withdrawals)
//
// It must be recorded (true loss <= Losses + Unassessed) and bounded:
//
//	true loss <= sum over attackers of max(0, out - in - loaded)
//
// where out is the value honest SEs accepted from the attacker's devices,
// in the value the attacker's SEs accepted from honest devices, and loaded
// what the ledger loaded into its purses: the operator can lose at most
// what attackers got honest payees to accept beyond what they held;
// recovery from their accounts only lowers it.
//
// # Attacks
//
// The catalogue (attack.go) holds one small type per attack: clones with
// the same counters (to two payees, or twice to one), clones at distinct
// counters that never sync, key extraction (a forger built with
// ledger/ledgertest: a payment at counter 2^62 followed by self-signed
// redeems, overspending within the per-payment limit with or without
// uploading, payments and redeems beyond limits), a payee rolled back
// after receiving, a payer and payee of one owner colluding, replays of
// uploads and payments, and a shop whose till's key is out refunding above
// a sale and twice (keyx-refund). Honest traffic has refunds too: shops
// refund recent sales, in full or in part, and a fifth of payments are
// made online (sent twice now and then, and now and then paid from the
// purse too by a modified wallet: both debits are its owner's). Online
// attacks: an online payment replayed as is, altered and redirected
// (online-replay), a colluding payer and payee paying online beyond the
// account beside offline spending of its reserved funds and withdrawals
// (online-race), online payments by revoked devices (online-revoked), a
// request naming one account's device signed by another's
// (online-foreign-request). After a regression the world gives the
// ledger back every online receipt, as wallets do after their next sync
// (reenterOnline; TestRegressGivesOnlinePaymentsBack), so the generator
// places checkpoints before online payments too (never before a
// revocation: nothing gives the ledger back an operator's revocation).
// KnownHoles lists the ledger holes the
// catalogue finds on the main branch today (none: the six it found are
// fixed); Config.SkipKnown leaves them out so that CI can hold everything
// else.
//
// The drain runs the ledger's overdue assessments (Service.Assess), as
// ledger serve does every minute.
//
// # The ledger going back in time
//
// Besides the attackers, the operator's machine fails (regress.go):
// Config.Regress is the chance, at each generated step after the setup,
// that the ledger loses its last commits there. The generator places a
// checkpoint 1 to 30 steps earlier (never before an enrolment it would
// take, never further back than the claim window of ledger time: the SEs
// keep acknowledged entries that long, and the design heals no older
// loss), where the world copies the ledger's database aside with the
// store's online backup (SQLite VACUUM INTO, pg_dump); at the regression
// it closes the store, puts the copy back and opens a fresh
// ledger.Service on it, which records the restore (Service.Restored, as
// offpay ledger restore does). Devices then sync as the wallet does: an upload
// answered "behind", or a result acknowledging less than the SE knows was
// acknowledged, is not applied; the device shows its last sync result as
// evidence (Service.Acknowledged) and uploads again from the ledger's
// counter; a reserve whose load number the ledger issued again syncs and
// asks again. Deposits and withdrawals since the checkpoint are re-entered
// by ref (a withdrawal refused until the balance it came from is back is
// retried after every step). At the drain's start, an attacker's device
// whose uploads the ledger lost syncs once, as its plan had. Every
// invariant above must hold through it, and: the issued money equals
// deposits less withdrawals not awaiting re-entry; an honest device is
// never stranded (its SE pruned what the ledger lost: honest-stranded);
// no re-entry is still refused after the drain (regress-unhealed); no
// device is still listed behind (conservation is not HOLDS while one is).
// After a regression the loss bound adds, for an attacker, what it
// loaded beyond what the ledger's report says it loaded: a load whose
// debit the ledger lost and whose device never gives it back is the
// operator's loss, not an attack's, whoever the purse then pays (an
// honest payee, or a colluding attacker's device whose account the
// ledger credits: found by online-race, seed 1052).
//
// Loss curves (curves.go) run the same worlds at scale and plot the
// operator's loss against the policy's limits and the attackers' share.
package sim
