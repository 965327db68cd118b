-- Claims (ledger/README.md): a payment recorded from its payer's log alone
-- awaits its payee's claim; ptime is the payment's own time (for expiry),
-- resolved_at the ledger time (unix seconds) it left "pending", 0 before.
ALTER TABLE payments ADD COLUMN ptime INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN resolved_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conflicts ADD COLUMN ptime INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conflicts ADD COLUMN resolved_at INTEGER NOT NULL DEFAULT 0;
-- sync_time: the latest ledger time a device's log shows it applied.
ALTER TABLE devices ADD COLUMN sync_time INTEGER NOT NULL DEFAULT 0;
CREATE INDEX payments_open ON payments (payer) WHERE status = 1;
CREATE INDEX payments_resolved ON payments (payer, resolved_at) WHERE resolved_at > 0;
