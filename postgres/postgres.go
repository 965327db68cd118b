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
	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxAttempts bounds the retries of one transaction.
const maxAttempts = 50

// Store is a ledger.Store on a PostgreSQL database.
type Store struct {
	db         *sql.DB
	retries    atomic.Int64
	syncCommit string // the session's synchronous_commit at Open
	dsn        string
	schema     string
	opts       Options
	fair       fairLock
}

// Options configure Open.
type Options struct {
	// AllowAsyncCommit lets Open succeed when the server's
	// synchronous_commit is off or local: then a commit the ledger has
	// acknowledged can be lost on a server crash (off) or a failover to a
	// replica (local), and devices that synced meanwhile are ahead of the
	// ledger. Without it Open refuses (ErrAsyncCommit).
	AllowAsyncCommit bool
}

// ErrAsyncCommit reports a server whose commits are not durable before
// they return (synchronous_commit off or local).
var ErrAsyncCommit = errors.New("postgres: synchronous_commit is off or local: an acknowledged upload could be lost")

var _ ledger.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string), sets search_path to schema when it is not empty
// (creating the schema if needed), and migrates.
func Open(ctx context.Context, dsn, schema string) (*Store, error) {
	return OpenWith(ctx, dsn, schema, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn, schema string, o Options) (*Store, error) {
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
	var sc string
	if err := db.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&sc); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: reading synchronous_commit: %w", err)
	}
	if (sc == "off" || sc == "local") && !o.AllowAsyncCommit {
		db.Close()
		return nil, fmt.Errorf("%w (it is %q; set it to on, remote_write, remote_apply, or allow it knowingly)", ErrAsyncCommit, sc)
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
	return &Store{db: db, syncCommit: sc, dsn: dsn, schema: schema, opts: o, fair: newFairLock(ctx, db, schema)}, nil
}

// SyncCommit is the server's synchronous_commit as the store found it.
func (s *Store) SyncCommit() string { return s.syncCommit }

// lz4Outbox makes outbox payloads compress with lz4 rather than the
// default pglz: a payment_settled notification carries up to 500 payments
// (tens of kilobytes of JSON), and pglz spent about 2 ms of server CPU per
// 1000-payment upload inside the one-at-a-time apply (ledger.Service.Sync);
// lz4 is several times faster. Compression changes nothing of what is
// stored or of its durability. A server without lz4 (built without it,
// before PostgreSQL 14, or CockroachDB) keeps its default: best effort.
// The archived notifications (outbox_archive) are compressed alike.
func lz4Outbox(ctx context.Context, db *sql.DB) {
	for _, table := range []string{"outbox", "outbox_archive"} {
		var c string
		err := db.QueryRowContext(ctx, `SELECT attcompression::text FROM pg_attribute
			WHERE attrelid = $1::regclass AND attname = 'payload'`, table).Scan(&c)
		if err != nil || c == "l" {
			continue
		}
		_, _ = db.ExecContext(ctx, `ALTER TABLE `+table+` ALTER COLUMN payload SET COMPRESSION lz4`)
	}
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
// backoff; after escalateAfter losses it runs with no other writer
// (fairLock).
func (s *Store) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if err = s.run(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable}, attempt, fn); err == nil || !retryable(err) {
			return unavailable(err)
		}
		s.retries.Add(1)
		d := time.Duration(rand.Int64N(int64(time.Millisecond)<<min(attempt, 6))) + time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	// Still losing to other transactions after maxAttempts: the database
	// is too busy right now, which the client can retry (503), not a
	// fault of the request.
	return &offpay.Error{Code: offpay.EUNAVAILABLE, Message: ErrBusy, Err: err}
}

// ErrBusy is the message of the unavailable error a transaction that kept
// conflicting with others becomes.
const ErrBusy = "the database is too busy (the transaction kept conflicting with others); nothing was changed: retry later"

// View implements ledger.Store: one consistent read-only snapshot.
func (s *Store) View(ctx context.Context, fn func(ledger.Tx) error) error {
	return unavailable(s.run(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, -1, fn))
}

// run runs fn in one transaction; attempt is the Update's (how many times
// it lost before), or -1 for a read-only View, which takes no fairLock.
func (s *Store) run(ctx context.Context, opts *sql.TxOptions, attempt int, fn func(ledger.Tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if attempt >= 0 {
		if err := s.fair.take(ctx, tx, attempt); err != nil {
			tx.Rollback()
			return err
		}
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
