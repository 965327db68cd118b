CREATE TABLE meta (k TEXT PRIMARY KEY, v BYTEA NOT NULL);
CREATE TABLE accounts (
	name TEXT PRIMARY KEY, merchant BOOLEAN NOT NULL, frozen BOOLEAN NOT NULL,
	balance BIGINT NOT NULL CHECK (balance >= 0), line_seq BIGINT NOT NULL,
	recovered BIGINT NOT NULL, lost BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE lines (
	account TEXT NOT NULL REFERENCES accounts (name), seq BIGINT NOT NULL, kind TEXT NOT NULL,
	amount BIGINT NOT NULL, balance BIGINT NOT NULL, ref TEXT NOT NULL, created_at BIGINT NOT NULL,
	PRIMARY KEY (account, seq));
CREATE TABLE refs (ref TEXT PRIMARY KEY, account TEXT NOT NULL, kind TEXT NOT NULL, amount BIGINT NOT NULL);
CREATE TABLE devices (
	id BYTEA PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts (name), merchant BOOLEAN NOT NULL,
	cert BYTEA NOT NULL, revoked BOOLEAN NOT NULL, revoked_at BIGINT NOT NULL, reason TEXT NOT NULL,
	acked BIGINT NOT NULL, last_hash BYTEA NOT NULL, loaded BIGINT NOT NULL, sent BIGINT NOT NULL,
	received BIGINT NOT NULL, redeemed BIGINT NOT NULL, swept BIGINT NOT NULL, load_seq BIGINT NOT NULL,
	loads_in BIGINT NOT NULL, max_sent BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX devices_account ON devices (account);
CREATE TABLE loads (
	device BYTEA NOT NULL, seq BIGINT NOT NULL, request_id BYTEA NOT NULL, amount BIGINT NOT NULL,
	data BYTEA NOT NULL, created_at BIGINT NOT NULL,
	PRIMARY KEY (device, seq), UNIQUE (device, request_id));
CREATE TABLE entries (
	device BYTEA NOT NULL, counter BIGINT NOT NULL, hash BYTEA NOT NULL, kind BIGINT NOT NULL, data BYTEA NOT NULL,
	PRIMARY KEY (device, counter));
CREATE TABLE payments (
	payer BYTEA NOT NULL, counter BIGINT NOT NULL, pid BYTEA NOT NULL, payee BYTEA NOT NULL, amount BIGINT NOT NULL,
	status BIGINT NOT NULL, src_device BYTEA NOT NULL, src_counter BIGINT NOT NULL, created_at BIGINT NOT NULL,
	PRIMARY KEY (payer, counter));
CREATE INDEX payments_pending ON payments (payee) WHERE status = 1;
CREATE TABLE conflicts (
	payer BYTEA NOT NULL, counter BIGINT NOT NULL, pid BYTEA NOT NULL, payee BYTEA NOT NULL, amount BIGINT NOT NULL,
	status BIGINT NOT NULL, src_device BYTEA NOT NULL, src_counter BIGINT NOT NULL, created_at BIGINT NOT NULL,
	PRIMARY KEY (payer, counter, pid));
CREATE TABLE proofs (
	device BYTEA NOT NULL, counter BIGINT NOT NULL, entry_a BYTEA NOT NULL, entry_b BYTEA NOT NULL, found_at BIGINT NOT NULL,
	PRIMARY KEY (device, counter));
CREATE TABLE outbox (
	id BIGINT PRIMARY KEY, kind TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE, payload BYTEA NOT NULL,
	attempts BIGINT NOT NULL, next_at BIGINT NOT NULL, lease_until BIGINT NOT NULL, delivered_at BIGINT NOT NULL,
	last_error TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX outbox_due ON outbox (created_at, id) WHERE delivered_at = 0;
