-- An open sale is found by its payer's key (payer, counter) instead of its
-- PaymentID: found by a hash, each sale dirtied a page of its own in an
-- index as large as the refund window's sales (sqlite/migrations/013 says
-- more). A refund finds its sale through its payee or among its till's
-- sales (ledger/refunds.go findSale).
ALTER TABLE open_sales DROP CONSTRAINT open_sales_pkey;
CREATE INDEX open_sales_payer ON open_sales (payer, counter);
-- The till's and the release sweep's indexes by the hour, not the exact
-- time (sqlite/migrations/013 says why).
DROP INDEX open_sales_device;
CREATE INDEX open_sales_device ON open_sales (device, (closes / 3600));
DROP INDEX open_sales_stale;
CREATE INDEX open_sales_stale ON open_sales (released, (stale / 3600));
