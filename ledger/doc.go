// Package ledger is offpay's settlement service: PKI and enrolment,
// accounts, reservations, settlement of offline payments exactly once,
// double-spend detection, reconciliation and the bank outbox. Storage is
// behind the Store interface (sqlite/ and postgres/ adapt it).
package ledger
