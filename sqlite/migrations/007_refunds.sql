-- Refunds (ledger/README.md "Refunds"). drawn: what a device's merchant
-- account paid for its refunds; sale: a refund's sale (its PaymentID), NULL
-- for a payment.
ALTER TABLE devices ADD COLUMN drawn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN sale BLOB;
ALTER TABLE conflicts ADD COLUMN sale BLOB;
-- The first refund recorded of each sale: a sale is refunded once; another
-- refund of it is half of a proof against its signer. drawn is what the
-- merchant account paid for it (0: not funded), line_seq its sale_refund
-- line; src_device and src_counter the entry that first showed it.
CREATE TABLE refunds (
	sale BLOB PRIMARY KEY, payer BLOB NOT NULL, counter INTEGER NOT NULL, pid BLOB NOT NULL, amount INTEGER NOT NULL,
	drawn INTEGER NOT NULL, account TEXT NOT NULL, line_seq INTEGER NOT NULL, src_device BLOB NOT NULL, src_counter INTEGER NOT NULL);
-- Sales a merchant's device may still refund: the merchant account is held
-- for them (summed by device: an account's devices are few; the report
-- groups by account). closes is the sale's time + the refund window (the device's log
-- showing a sync that late closes it), stale the ledger time by which a
-- device that never synced again has stopped paying.
CREATE TABLE open_sales (
	pid BLOB PRIMARY KEY, payer BLOB NOT NULL, counter INTEGER NOT NULL, device BLOB NOT NULL, account TEXT NOT NULL,
	amount INTEGER NOT NULL, closes INTEGER NOT NULL, stale INTEGER NOT NULL, src_device BLOB NOT NULL, src_counter INTEGER NOT NULL);
CREATE INDEX open_sales_device ON open_sales (device, closes);
CREATE INDEX open_sales_stale ON open_sales (stale);
