// Package bank delivers the ledger's notification outbox to a bank's
// webhook: signed, at least once, in sequence per account, concurrently
// across accounts.
//
// # What a receiver gets
//
// Each notification is one POST to the configured URL with a JSON body
//
//	{"schema_version": 2, "id": "<idempotency key>", "kind": "payment_settled",
//	 "account": "<account>", "event_seq": 7, "created_at": "<RFC 3339>", "data": {...}}
//
// where kind is one of ledger.Kinds and data is the ledger's payload for
// it (spec/SPEC.md section 19 lists them). Every notification is about one
// account; event_seq numbers that account's notifications 1, 2, 3, ...
// with no gap and no repeat. The headers are
//
//	Content-Type: application/json
//	Offpay-Event: <kind>
//	Offpay-Idempotency-Key: <the same key as "id">
//	Offpay-Signature: t=<unix seconds>,v1=<hex MAC>,v2=<hex MAC>
//
// where v2 is an HMAC-SHA256 over the timestamp, the idempotency key, the
// kind and the raw body, and v1 (for receivers written before v2) over the
// timestamp and the body only. A receiver verifies v2 before it decodes
// the body (VerifyRequest; ParseEvent decodes), processes each idempotency
// key once, and answers 2xx only once the effect is durable. Anything
// else, including a redirect, or no answer within the timeout, is a failed
// attempt, retried with the same body. Reconcile matches what a bank
// received against the ledger's statements. Notifications written before
// streams existed (no account) go out in their old form, without
// schema_version, account or event_seq.
//
// With Config.Format FormatCamt054 the notifications that carry money
// (account_changed, payment_settled, payment_expired) go as an ISO 20022
// camt.054 document instead (Camt054, Content-Type application/xml), under
// the same headers and signature; the others stay JSON.
//
// # Order, concurrency, failures
//
// The worker sends an account's notifications in event_seq order: the
// next is sent only once the one before it is delivered (or given up).
// Different accounts' notifications go concurrently, up to
// Config.Concurrency at once, so one slow or hanging request holds up one
// account only. A failed notification is retried with exponential backoff
// (with jitter, capped); while the receiver fails, the worker sends one
// notification at a time, and the first success ends every backoff, so
// that the backlog goes at once. A notification still failing
// Config.DeadAfter after it was written (or resent) is given up: a dead
// letter, counted in the report and metrics, that no longer holds its
// account back and that `offpay ledger outbox resend` sends again. A
// receiver that sees an event_seq jump has missed one (a dead letter, or
// one its own system lost): it can list, export or resend it.
//
// A claimed notification is leased (ledger.Options.Lease, 1 min by
// default) and the worker renews the lease at half its length while it
// sends, so several ledger processes over one store never send the same
// notification, or an account's next one, at once; a process that dies
// leaves its notifications to be claimed again when their leases end.
package bank
