// Package postgres stores the ledger in PostgreSQL (pgx) with serializable
// transactions, in SQL that CockroachDB also accepts.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxAttempts bounds the retries of one transaction.
const maxAttempts = 50

// Store is a ledger.Store on a PostgreSQL database.
type Store struct {
	db      *sql.DB
	retries atomic.Int64
}

var _ ledger.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string), sets search_path to schema when it is not empty
// (creating the schema if needed), and migrates.
func Open(ctx context.Context, dsn, schema string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = schema
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if schema != "" {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			db.Close()
			return nil, fmt.Errorf("postgres: creating schema: %w", err)
		}
	}
	if err := sqlstore.Migrate(ctx, db, migrations, "migrations"); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	lz4Outbox(ctx, db)
	return &Store{db: db}, nil
}

// lz4Outbox makes outbox payloads compress with lz4 rather than the
// default pglz: a payment_settled notification carries up to 500 payments
// (tens of kilobytes of JSON), and pglz spent about 2 ms of server CPU per
// 1000-payment upload inside the one-at-a-time apply (ledger.Service.Sync);
// lz4 is several times faster. Compression changes nothing of what is
// stored or of its durability. A server without lz4 (built without it,
// before PostgreSQL 14, or CockroachDB) keeps its default: best effort.
func lz4Outbox(ctx context.Context, db *sql.DB) {
	var c string
	err := db.QueryRowContext(ctx, `SELECT attcompression::text FROM pg_attribute
		WHERE attrelid = 'outbox'::regclass AND attname = 'payload'`).Scan(&c)
	if err != nil || c == "l" {
		return
	}
	_, _ = db.ExecContext(ctx, `ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4`)
}

// retryable reports serialization failures, deadlocks and uniqueness
// races: each means another transaction won, and running fn again sees
// its result (fn checks before it inserts).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505":
		return true
	}
	return false
}

// Update implements ledger.Store: SERIALIZABLE, retried with jittered
// backoff.
func (s *Store) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err = s.run(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable}, fn); err == nil || !retryable(err) {
			return err
		}
		s.retries.Add(1)
		d := time.Duration(rand.Int64N(int64(time.Millisecond)<<min(attempt, 6))) + time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	return err
}

// View implements ledger.Store: one consistent read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(ledger.Tx) error) error {
	return s.run(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, fn)
}

func (s *Store) run(ctx context.Context, opts *sql.TxOptions, fn func(ledger.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	// COPY runs on the transaction's own connection, so inside it.
	copyFn := func(ctx context.Context, table string, cols []string, rows [][]any) error {
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
	}
	if err := fn(sqlstore.Wrap(tx, sqlstore.Postgres).WithCopy(copyFn)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Retries returns how many transactions were run again after a
// serialization failure or uniqueness race (a contention gauge).
func (s *Store) Retries() int64 { return s.retries.Load() }

// DB returns the underlying pool (tests and tools).
func (s *Store) DB() *sql.DB { return s.db }

// Close implements ledger.Store.
func (s *Store) Close() error { return s.db.Close() }
