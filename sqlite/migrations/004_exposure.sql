-- Money safety (ledger/README.md "Exposure, holds and deadlines"): last_seen
-- is the latest ledger time (unix s) a device was given (its enrolment, each
-- sync result); assess_by the ledger time at which its unexplained deficit
-- becomes final (0: none); max_days the highest max_offline_days of any
-- certificate it has held (0: its current one's); not_after its current
-- certificate's expiry; forfeit the value of payments it received that the
-- ledger had already returned to their payers.
ALTER TABLE devices ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN assess_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN not_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN forfeit INTEGER NOT NULL DEFAULT 0;
-- max_hops, max_count, max_value: the highest max_hops, max_offline_count and
-- max_offline_value of any certificate the device has held (0: its current one's).
ALTER TABLE devices ADD COLUMN max_hops INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_value INTEGER NOT NULL DEFAULT 0;
UPDATE devices SET last_seen = created_at / 1000000000;
CREATE INDEX devices_assess ON devices (assess_by) WHERE assess_by > 0;
-- Receipts carried by payers' confirm entries for payee counters the ledger
-- has not seen yet: each is checked against the payee's entry when it comes.
CREATE TABLE receipts (
	payee BLOB NOT NULL, counter INTEGER NOT NULL, pid BLOB NOT NULL, src_device BLOB NOT NULL, src_counter INTEGER NOT NULL,
	PRIMARY KEY (payee, counter)) WITHOUT ROWID;
-- Proof kinds: 'entries' (two log entries) or 'receipt' (a log entry or a
-- receipt against a receipt the device signed for the same counter).
ALTER TABLE proofs ADD COLUMN kind TEXT NOT NULL DEFAULT 'entries';
-- Evidence that the ledger went back in time (ledger/recovery.go): a device
-- showed a sync result this ledger signed, acknowledging its log up to acked,
-- while the ledger held less. It stands until the device's acked reaches it.
CREATE TABLE behind (
	device BLOB PRIMARY KEY, acked INTEGER NOT NULL, result_time INTEGER NOT NULL, found_at INTEGER NOT NULL);
-- One-time enrolment codes (ledger/codes.go): only their hash is kept.
CREATE TABLE enrol_codes (
	hash BLOB PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts (name), created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL, used_by BLOB NOT NULL, cancelled INTEGER NOT NULL);
-- Lost devices (ledger/lost.go): restore_by is the ledger time at which a
-- lost device's remaining value returns to its account (0: none due);
-- restored the value so returned.
ALTER TABLE devices ADD COLUMN restore_by INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN restored INTEGER NOT NULL DEFAULT 0;
CREATE INDEX devices_restore ON devices (restore_by) WHERE restore_by > 0;
