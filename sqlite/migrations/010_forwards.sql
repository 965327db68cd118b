-- Federation (ledger/forward.go): evidence of payments by other providers'
-- payers, to forward to those providers. id: the payment's ID; data: a
-- protocol.Forward; sent_at: when the transport took it, 0 before.
CREATE TABLE forwards (
	id BLOB PRIMARY KEY, provider TEXT NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER NOT NULL);
CREATE INDEX forwards_unsent ON forwards (sent_at, created_at);
