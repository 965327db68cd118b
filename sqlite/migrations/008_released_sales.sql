-- A sale whose merchant device stopped paying before its log showed the
-- refund window pass is released (released = 1): no longer held on the
-- merchant account, but kept, so that a refund the device signed before
-- it stopped, uploaded later, is still recognised as its own and funded
-- from what the account has (the rest is the device's debt without
-- fraud). The device's log showing a sync past the window, or the refund,
-- removes the row.
ALTER TABLE open_sales ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
DROP INDEX open_sales_stale;
CREATE INDEX open_sales_stale ON open_sales (released, stale);
