// Package sqlite stores the ledger in an embedded SQLite database
// (modernc.org/sqlite, pure Go, WAL).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"net/url"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/sqlstore"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a ledger.Store on one SQLite file. Write transactions go through
// a single connection and start IMMEDIATE, so they never fail half way on
// a lock upgrade; reads use a pool of their own and see WAL snapshots.
type Store struct {
	w, r *sql.DB

	stmts map[string]*sql.Stmt // prepared on w's one connection at Open
}

var _ ledger.Store = (*Store)(nil)

func dsn(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	w, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := sqlstore.Migrate(ctx, w, migrations, "migrations"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	st := &Store{w: w, r: r, stmts: map[string]*sql.Stmt{}}
	// Prepared before any transaction: w has one connection, so preparing
	// during a transaction would wait for it for ever.
	for _, q := range sqlstore.Prepared(sqlstore.SQLite) {
		p, err := w.PrepareContext(ctx, q)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("sqlite: preparing: %w", err)
		}
		st.stmts[q] = p
	}
	return st, nil
}

// Update implements ledger.Store. With one writer there are no
// serialization failures to retry.
func (s *Store) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(sqlstore.Wrap(tx, sqlstore.SQLite).WithPrepared(s.prepared)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// prepared returns q if it was prepared at Open.
func (s *Store) prepared(q string) *sql.Stmt { return s.stmts[q] }

// View implements ledger.Store.
func (s *Store) View(ctx context.Context, fn func(ledger.Tx) error) error {
	return run(ctx, s.r, &sql.TxOptions{ReadOnly: true}, fn)
}

func run(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(ledger.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(sqlstore.Wrap(tx, sqlstore.SQLite)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Close implements ledger.Store.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	err1 := s.r.Close()
	err2 := s.w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}
