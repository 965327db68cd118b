-- Federation (ledger/forward.go): evidence of payments by other providers'
-- payers, to forward to those providers. id: the payment's ID; data: a
-- protocol.Forward; sent_at: when the transport took it, 0 before.
CREATE TABLE forwards (
	id BYTEA PRIMARY KEY, provider TEXT NOT NULL, data BYTEA NOT NULL, created_at BIGINT NOT NULL, sent_at BIGINT NOT NULL);
CREATE INDEX forwards_unsent ON forwards (sent_at, created_at);
