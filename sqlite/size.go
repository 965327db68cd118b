package sqlite

import (
	"context"
	"os"
	"time"

	"github.com/offpay/offpay/ledger/sqlstore"
)

// Sizes reports what the database takes on disk: the bytes of each table
// with its indexes (SQLite's dbstat, by the table each b-tree belongs to),
// and the main file and its WAL. It checkpoints the WAL first (PASSIVE: it
// waits for no reader; again while the store's checkpointer holds the
// checkpoint), so that the file holds what was written; the WAL
// file keeps its largest size (SQLite reuses it from the start).
func (s *Store) Sizes(ctx context.Context) (*sqlstore.Sizes, error) {
	// Busy: the checkpointer (checkpoint.go) is copying; once it is done,
	// this one copies what is left.
	for busy := 1; busy != 0; {
		var log, done int
		if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
			return nil, unavailable(err)
		}
		if busy != 0 {
			select {
			case <-ctx.Done():
				return nil, unavailable(ctx.Err())
			case <-time.After(time.Millisecond):
			}
		}
	}
	rows, err := s.w.QueryContext(ctx, `SELECT COALESCE(m.tbl_name, d.name), d.name, SUM(d.pgsize)
		FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY d.name`)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := &sqlstore.Sizes{Tables: map[string]int64{}, Indexes: map[string]int64{}}
	for rows.Next() {
		var table, name string
		var n int64
		if err := rows.Scan(&table, &name, &n); err != nil {
			return nil, unavailable(err)
		}
		out.Tables[table] += n
		if name != table {
			out.Indexes[table] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	if fi, err := os.Stat(s.path); err == nil {
		out.Disk = fi.Size()
	}
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		out.WAL = fi.Size()
	}
	return out, nil
}
