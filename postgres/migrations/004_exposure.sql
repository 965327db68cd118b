-- Money safety (ledger/README.md "Exposure, holds and deadlines"): last_seen
-- is the latest ledger time (unix s) a device was given (its enrolment, each
-- sync result); assess_by the ledger time at which its unexplained deficit
-- becomes final (0: none); max_days the highest max_offline_days of any
-- certificate it has held (0: its current one's); not_after its current
-- certificate's expiry; forfeit the value of payments it received that the
-- ledger had already returned to their payers.
ALTER TABLE devices ADD COLUMN last_seen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN assess_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN not_after BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN forfeit BIGINT NOT NULL DEFAULT 0;
-- max_hops, max_count, max_value: the highest max_hops, max_offline_count and
-- max_offline_value of any certificate the device has held (0: its current one's).
ALTER TABLE devices ADD COLUMN max_hops BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_value BIGINT NOT NULL DEFAULT 0;
UPDATE devices SET last_seen = created_at / 1000000000;
CREATE INDEX devices_assess ON devices (assess_by) WHERE assess_by > 0;
-- Receipts carried by payers' confirm entries for payee counters the ledger
-- has not seen yet: each is checked against the payee's entry when it comes.
CREATE TABLE receipts (
	payee BYTEA NOT NULL, counter BIGINT NOT NULL, pid BYTEA NOT NULL, src_device BYTEA NOT NULL, src_counter BIGINT NOT NULL,
	PRIMARY KEY (payee, counter));
-- Proof kinds: 'entries' (two log entries) or 'receipt' (a log entry or a
-- receipt against a receipt the device signed for the same counter).
ALTER TABLE proofs ADD COLUMN kind TEXT NOT NULL DEFAULT 'entries';
-- Evidence that the ledger went back in time (ledger/recovery.go): a device
-- showed a sync result this ledger signed, acknowledging its log up to acked,
-- while the ledger held less. It stands until the device's acked reaches it.
CREATE TABLE behind (
	device BYTEA PRIMARY KEY, acked BIGINT NOT NULL, result_time BIGINT NOT NULL, found_at BIGINT NOT NULL);
-- One-time enrolment codes (ledger/codes.go): only their hash is kept.
CREATE TABLE enrol_codes (
	hash BYTEA PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts (name), created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL, used_at BIGINT NOT NULL, used_by BYTEA NOT NULL, cancelled BOOLEAN NOT NULL);
-- Lost devices (ledger/lost.go): restore_by is the ledger time at which a
-- lost device's remaining value returns to its account (0: none due);
-- restored the value so returned.
ALTER TABLE devices ADD COLUMN restore_by BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN restored BIGINT NOT NULL DEFAULT 0;
CREATE INDEX devices_restore ON devices (restore_by) WHERE restore_by > 0;
