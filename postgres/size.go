package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/ledger/sqlstore"
)

// Sizes reports what the ledger's tables take: pg_total_relation_size of
// each (heap, indexes, TOAST and free space maps) and pg_indexes_size,
// over the tables of the store's schema (search_path's first).
func (s *Store) Sizes(ctx context.Context) (*sqlstore.Sizes, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname, pg_total_relation_size(c.oid), pg_indexes_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := &sqlstore.Sizes{Tables: map[string]int64{}, Indexes: map[string]int64{}}
	for rows.Next() {
		var name string
		var total, idx int64
		if err := rows.Scan(&name, &total, &idx); err != nil {
			return nil, unavailable(err)
		}
		out.Tables[name], out.Indexes[name] = total, idx
		out.Disk += total
	}
	return out, unavailable(rows.Err())
}

// Compact rewrites the tables of the store's schema (VACUUM FULL), as an
// operator would after archiving: PostgreSQL otherwise keeps a table's
// files at their largest and reuses the room deleted rows leave. It locks
// each table while it rewrites it, so it is a maintenance step, not one to
// run while serving (plain VACUUM, which autovacuum runs, does not lock but
// gives no room back to the file system).
func (s *Store) Compact(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = current_schema()`)
	if err != nil {
		return unavailable(err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return unavailable(err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return unavailable(err)
	}
	for _, t := range tables { // only this schema's: the database may hold others
		if _, err := s.db.ExecContext(ctx, `VACUUM FULL `+pgx.Identifier{t}.Sanitize()); err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// Checkpoint writes every dirty page of the server to disk (CHECKPOINT,
// which needs a superuser or pg_checkpoint): offpay bench --storage runs
// it before each timed run, so that none pays for the writes before it.
func (s *Store) Checkpoint(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `CHECKPOINT`)
	return unavailable(err)
}
