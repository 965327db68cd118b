// Package bank delivers the ledger's notification outbox to a bank's webhook, signed and at least once.
//
// # What a receiver gets
//
// Each notification is one POST to the configured URL with a JSON body
//
//	{"id": "<idempotency key>", "kind": "payment_settled", "created_at": "<RFC 3339>", "data": {...}}
//
// where kind is one of payment_settled, payment_expired (an unclaimed
// payment's value returned to its payer's account), account_changed,
// device_revoked and double_spend (ledger.Note*), and data is the ledger's
// payload for it. The
// headers are
//
//	Content-Type: application/json
//	Offpay-Event: <kind>
//	Offpay-Idempotency-Key: <the same key as "id">
//	Offpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// A receiver verifies the signature over the raw body bytes (Verify does,
// for Go; elsewhere: recompute the HMAC, compare in constant time, and
// refuse timestamps more than a few minutes from its clock), processes each
// idempotency key once, and answers 2xx only once the effect is durable.
// Anything else, or no answer, is retried with exponential backoff (with
// jitter, capped) for as long as it takes: a notification is never dropped,
// and the body of every attempt is byte-identical.
package bank
