-- Online payments (ledger/online.go): a payee's request paid from the
-- payer's account at once. (payee, nonce) is the request: it is paid once.
-- id: the OnlinePayment's ID; receipt: the OnlineReceipt the ledger signed,
-- returned again to a retry and to the payee's lookup.
CREATE TABLE online_payments (
	payee BLOB NOT NULL, nonce BLOB NOT NULL, id BLOB NOT NULL, payer BLOB NOT NULL,
	payer_account TEXT NOT NULL, payee_account TEXT NOT NULL, amount INTEGER NOT NULL,
	receipt BLOB NOT NULL, created_at INTEGER NOT NULL,
	PRIMARY KEY (payee, nonce));
