-- The console's activity chart (ledger/activity.go, GET /v1/admin/activity)
-- reads the payments recorded in a time range from payments, conflicts and
-- payments_archive (sqlstore.ActivitySQL): without these indexes each
-- request scanned all three. Each index carries the columns the query
-- reads (amount, ptime), so a vacuumed table is read by the index alone.
CREATE INDEX payments_created ON payments (created_at) INCLUDE (amount, ptime);
CREATE INDEX conflicts_created ON conflicts (created_at) INCLUDE (amount, ptime);
CREATE INDEX payments_archive_created ON payments_archive (created_at) INCLUDE (amount, ptime);
