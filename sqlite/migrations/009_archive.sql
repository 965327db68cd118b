-- Settled history older than a retention, moved out of the hot tables by
-- `offpay ledger archive` (ledger/archive.go; README "Storage and
-- archiving"). Each archive table has its hot table's columns; the keyed
-- reads of payments, entries and lines fall back to it, so a payment
-- archived is still known (exactly once, double spends), its entries
-- still evidence, and a statement still lists its lines.
CREATE TABLE payments_archive (
	payer BLOB NOT NULL, counter INTEGER NOT NULL, pid BLOB NOT NULL, payee BLOB NOT NULL, amount INTEGER NOT NULL,
	status INTEGER NOT NULL, src_device BLOB NOT NULL, src_counter INTEGER NOT NULL, created_at INTEGER NOT NULL,
	ptime INTEGER NOT NULL, resolved_at INTEGER NOT NULL, sale BLOB,
	PRIMARY KEY (payer, counter)) WITHOUT ROWID;
-- ResolvedOf reads the archived payments of a payer resolved since its
-- last sync: without this index each upload would scan all of them.
CREATE INDEX payments_archive_resolved ON payments_archive (payer, resolved_at) WHERE resolved_at > 0;
CREATE TABLE entries_archive (
	device BLOB NOT NULL, counter INTEGER NOT NULL, hash BLOB NOT NULL, kind INTEGER NOT NULL, data BLOB NOT NULL,
	PRIMARY KEY (device, counter)) WITHOUT ROWID;
CREATE TABLE lines_archive (
	account TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL, balance INTEGER NOT NULL,
	ref TEXT NOT NULL, created_at INTEGER NOT NULL,
	PRIMARY KEY (account, seq));
CREATE TABLE outbox_archive (
	id INTEGER PRIMARY KEY, kind TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, seq INTEGER NOT NULL,
	payload BLOB NOT NULL, attempts INTEGER NOT NULL, streak INTEGER NOT NULL, next_at INTEGER NOT NULL,
	lease_until INTEGER NOT NULL, lease_token INTEGER NOT NULL, since INTEGER NOT NULL, delivered_at INTEGER NOT NULL,
	dead_at INTEGER NOT NULL, last_error TEXT NOT NULL, created_at INTEGER NOT NULL);
