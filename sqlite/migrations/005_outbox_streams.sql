-- Bank notifications (bank/doc.go, ledger/outbox.go). Each notification
-- belongs to a stream (the account it is about) and has the next sequence
-- number of that stream (seq; outbox_streams holds the last one given, and
-- the last created_at: a stream's created_at increases with seq, so that the
-- order written, (created_at, id), is each stream's order too): delivery
-- goes in sequence per stream. Rows written before this migration
-- have stream '' and seq 0 and are delivered as before, unordered.
-- lease_token names the claim holding lease_until, so that only its holder
-- renews or releases it; streak counts attempts since the last success or
-- reset (the backoff), attempts all of them; since is when the current
-- delivery series started (written, or resent): a notification failing
-- for longer than the dead-letter age is given up at dead_at.
ALTER TABLE outbox ADD COLUMN stream TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN dead_at INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET since = created_at, streak = attempts;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (created_at, id) WHERE delivered_at = 0 AND dead_at = 0;
CREATE INDEX outbox_head ON outbox (stream, seq) WHERE delivered_at = 0 AND dead_at = 0;
CREATE UNIQUE INDEX outbox_stream_seq ON outbox (stream, seq) WHERE seq > 0;
CREATE INDEX outbox_created ON outbox (created_at, id);
CREATE INDEX outbox_dead ON outbox (created_at, id) WHERE dead_at > 0;
CREATE TABLE outbox_streams (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL, last_at INTEGER NOT NULL);
