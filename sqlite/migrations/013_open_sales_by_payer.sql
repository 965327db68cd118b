-- An open sale is found by its payer's key (payer, counter) instead of its
-- PaymentID. Found by a hash, each sale dirtied a page of its own in an
-- index as large as the refund window's sales, which the commit wrote to
-- the WAL and the checkpoint again: the largest and the growing part of
-- what a payment writes (README "Settlement cost as the store grows";
-- inserting 10^6 sales in commits of 1,600: 33 µs CPU a sale, against 9.5
-- for this table). An upload's sales now share pages. A refund finds its
-- sale through its payee (an honest refund's payee is the sale's payer) or
-- among its till's sales (ledger/refunds.go findSale). No key of its own:
-- a sale is opened when its payment is first credited, once, as the
-- payments and conflicts keys ensure.
CREATE TABLE open_sales_by_payer (
	payer BLOB NOT NULL, counter INTEGER NOT NULL, pid BLOB NOT NULL, device BLOB NOT NULL, account TEXT NOT NULL,
	amount INTEGER NOT NULL, closes INTEGER NOT NULL, stale INTEGER NOT NULL, src_device BLOB NOT NULL, src_counter INTEGER NOT NULL,
	released INTEGER NOT NULL DEFAULT 0);
INSERT INTO open_sales_by_payer (payer, counter, pid, device, account, amount, closes, stale, src_device, src_counter, released)
	SELECT payer, counter, pid, device, account, amount, closes, stale, src_device, src_counter, released FROM open_sales;
DROP TABLE open_sales;
ALTER TABLE open_sales_by_payer RENAME TO open_sales;
CREATE INDEX open_sales_payer ON open_sales (payer, counter);
-- The till's and the release sweep's indexes order sales by the hour their
-- window closes or they go stale, then by rowid (insertion): found by the
-- exact time, a late upload's sales (a payer's clock, hours or days back)
-- each landed on a page of their own among the sales of the same times
-- (300,000 sales with the bench's clocks: 26 µs CPU a sale against 10 by
-- the hour). Queries say "closes / 3600" and "stale / 3600" to use them
-- (ledger/sqlstore/refunds.go).
CREATE INDEX open_sales_device ON open_sales (device, closes / 3600);
CREATE INDEX open_sales_stale ON open_sales (released, stale / 3600);
