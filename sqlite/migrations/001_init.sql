CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE accounts (
	name TEXT PRIMARY KEY, merchant INTEGER NOT NULL, frozen INTEGER NOT NULL,
	balance INTEGER NOT NULL CHECK (balance >= 0), line_seq INTEGER NOT NULL,
	recovered INTEGER NOT NULL, lost INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE lines (
	account TEXT NOT NULL REFERENCES accounts (name), seq INTEGER NOT NULL, kind TEXT NOT NULL,
	amount INTEGER NOT NULL, balance INTEGER NOT NULL, ref TEXT NOT NULL, created_at INTEGER NOT NULL,
	PRIMARY KEY (account, seq));
CREATE TABLE refs (ref TEXT PRIMARY KEY, account TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL);
CREATE TABLE devices (
	id BLOB PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts (name), merchant INTEGER NOT NULL,
	cert BLOB NOT NULL, revoked INTEGER NOT NULL, revoked_at INTEGER NOT NULL, reason TEXT NOT NULL,
	acked INTEGER NOT NULL, last_hash BLOB NOT NULL, loaded INTEGER NOT NULL, sent INTEGER NOT NULL,
	received INTEGER NOT NULL, redeemed INTEGER NOT NULL, swept INTEGER NOT NULL, load_seq INTEGER NOT NULL,
	loads_in INTEGER NOT NULL, max_sent INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX devices_account ON devices (account);
CREATE TABLE loads (
	device BLOB NOT NULL, seq INTEGER NOT NULL, request_id BLOB NOT NULL, amount INTEGER NOT NULL,
	data BLOB NOT NULL, created_at INTEGER NOT NULL,
	PRIMARY KEY (device, seq), UNIQUE (device, request_id));
CREATE TABLE entries (
	device BLOB NOT NULL, counter INTEGER NOT NULL, hash BLOB NOT NULL, kind INTEGER NOT NULL, data BLOB NOT NULL,
	PRIMARY KEY (device, counter)) WITHOUT ROWID;
CREATE TABLE payments (
	payer BLOB NOT NULL, counter INTEGER NOT NULL, pid BLOB NOT NULL, payee BLOB NOT NULL, amount INTEGER NOT NULL,
	status INTEGER NOT NULL, src_device BLOB NOT NULL, src_counter INTEGER NOT NULL, created_at INTEGER NOT NULL,
	PRIMARY KEY (payer, counter)) WITHOUT ROWID;
CREATE INDEX payments_pending ON payments (payee) WHERE status = 1;
CREATE TABLE conflicts (
	payer BLOB NOT NULL, counter INTEGER NOT NULL, pid BLOB NOT NULL, payee BLOB NOT NULL, amount INTEGER NOT NULL,
	status INTEGER NOT NULL, src_device BLOB NOT NULL, src_counter INTEGER NOT NULL, created_at INTEGER NOT NULL,
	PRIMARY KEY (payer, counter, pid));
CREATE TABLE proofs (
	device BLOB NOT NULL, counter INTEGER NOT NULL, entry_a BLOB NOT NULL, entry_b BLOB NOT NULL, found_at INTEGER NOT NULL,
	PRIMARY KEY (device, counter));
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY, kind TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE, payload BLOB NOT NULL,
	attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, lease_until INTEGER NOT NULL, delivered_at INTEGER NOT NULL,
	last_error TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX outbox_due ON outbox (created_at, id) WHERE delivered_at = 0;
