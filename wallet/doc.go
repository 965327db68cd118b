// Package wallet runs the payer and payee flows over a secure element, keeps the user's history and talks to the ledger when online.
//
// Two flows pay: the payee shows a one-time request (Request) that the
// payer pays (Pay) and the payee accepts (Accept); or the payee shows its
// standing request (StandingRequest: open, reusable, printable) and the
// payer presents the bundle Pay returns for the payee to scan and Accept.
// Either way the payee's receipt, scanned back by the payer (Confirm),
// settles the payment at the payer's next sync; without it the payment is
// pending until the payee syncs, and if the payee never claims it within
// protocol.ClaimWindow it expires and its value returns to the payer's
// account. A merchant device (receive-only) has its takings swept to its
// account at sync; each sweep is a history record of kind KindSweep.
//
// A payee keeps the receipt of every payment it accepted in the payment's
// history record, saved before the receipt is handed out. A transport that
// retries after a drop uses AcceptRetry: the same bundle presented again
// gets that receipt back byte for byte and credits nothing; Accept, for a
// person scanning a payment code twice, refuses the repeat
// (se.ErrAlreadyAccepted).
package wallet
