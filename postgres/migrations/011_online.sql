-- Online payments (ledger/online.go): a payee's request paid from the
-- payer's account at once. (payee, nonce) is the request: it is paid once.
-- id: the OnlinePayment's ID; receipt: the OnlineReceipt the ledger signed,
-- returned again to a retry and to the payee's lookup.
CREATE TABLE online_payments (
	payee BYTEA NOT NULL, nonce BYTEA NOT NULL, id BYTEA NOT NULL, payer BYTEA NOT NULL,
	payer_account TEXT NOT NULL, payee_account TEXT NOT NULL, amount BIGINT NOT NULL,
	receipt BYTEA NOT NULL, created_at BIGINT NOT NULL,
	PRIMARY KEY (payee, nonce));
