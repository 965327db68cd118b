-- Settled history older than a retention, moved out of the hot tables by
-- `offpay ledger archive` (ledger/archive.go; README "Storage and
-- archiving"). Each archive table has its hot table's columns; the keyed
-- reads of payments, entries and lines fall back to it, so a payment
-- archived is still known (exactly once, double spends), its entries
-- still evidence, and a statement still lists its lines.
CREATE TABLE payments_archive (
	payer BYTEA NOT NULL, counter BIGINT NOT NULL, pid BYTEA NOT NULL, payee BYTEA NOT NULL, amount BIGINT NOT NULL,
	status BIGINT NOT NULL, src_device BYTEA NOT NULL, src_counter BIGINT NOT NULL, created_at BIGINT NOT NULL,
	ptime BIGINT NOT NULL, resolved_at BIGINT NOT NULL, sale BYTEA,
	PRIMARY KEY (payer, counter));
-- ResolvedOf reads the archived payments of a payer resolved since its
-- last sync: without this index each upload would scan all of them.
CREATE INDEX payments_archive_resolved ON payments_archive (payer, resolved_at) WHERE resolved_at > 0;
CREATE TABLE entries_archive (
	device BYTEA NOT NULL, counter BIGINT NOT NULL, hash BYTEA NOT NULL, kind BIGINT NOT NULL, data BYTEA NOT NULL,
	PRIMARY KEY (device, counter));
CREATE TABLE lines_archive (
	account TEXT NOT NULL, seq BIGINT NOT NULL, kind TEXT NOT NULL, amount BIGINT NOT NULL, balance BIGINT NOT NULL,
	ref TEXT NOT NULL, created_at BIGINT NOT NULL,
	PRIMARY KEY (account, seq));
CREATE TABLE outbox_archive (
	id BIGINT PRIMARY KEY, kind TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, seq BIGINT NOT NULL,
	payload BYTEA NOT NULL, attempts BIGINT NOT NULL, streak BIGINT NOT NULL, next_at BIGINT NOT NULL,
	lease_until BIGINT NOT NULL, lease_token BIGINT NOT NULL, since BIGINT NOT NULL, delivered_at BIGINT NOT NULL,
	dead_at BIGINT NOT NULL, last_error TEXT NOT NULL, created_at BIGINT NOT NULL);
