// Package sqlite stores the ledger in an embedded SQLite database
// (modernc.org/sqlite, pure Go, WAL).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"

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
	path string
	opts Options
	w, r *sql.DB
	cp   *checkpointer
	// changes is the writer's total_changes() at its last commit: read
	// and set only inside a write transaction, which holds w's one
	// connection.
	changes int64

	ws, rs *stmtCache // statements prepared on w and on r
}

var _ ledger.Store = (*Store)(nil)

// A connection's role: the one writer, a reader, or the background
// checkpointer (checkpoint.go).
type role int

const (
	roleRead role = iota
	roleWrite
	roleCheckpoint
)

func dsn(path string, r role, o Options) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: a commit is on disk when it returns. Under NORMAL a committed
	// transaction can roll back after a power loss, and the ledger would
	// have acknowledged an upload it no longer holds (README "Operating").
	if o.UnsafeSyncNormal {
		q.Add("_pragma", "synchronous(NORMAL)")
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	q.Add("_pragma", "foreign_keys(1)")
	// Savepoints (one per upload in a group commit) keep their page images
	// in memory rather than in a temporary file written at every first
	// change of a page: those writes were a sixth of a crowd's upload work.
	q.Add("_pragma", "temp_store(MEMORY)")
	switch r {
	case roleWrite:
		// The writer's page cache: 64 MiB (SQLite's default is 2 MiB)
		// keeps the inner pages of the big tables' b-trees in memory, so
		// that settling a payment costs about the same with 10^6 stored
		// as with 10^3 (offpay bench --storage: 1.06 to 1.11 times the
		// CPU time at 10^5 instead of 1.22 to 1.23). Pages are allocated
		// as they are used.
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", writerCacheKiB))
		q.Set("_txlock", "immediate")
	case roleRead:
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// writerCacheKiB is the write connection's page cache.
const writerCacheKiB = 64 << 10

// Options configure OpenWith.
type Options struct {
	// UnsafeSyncNormal runs synchronous=NORMAL instead of FULL: commits
	// the ledger acknowledged can be lost on a power loss. Only for
	// measuring what durability costs (offpay bench).
	UnsafeSyncNormal bool
}

// Open opens (creating if needed) the database at path and migrates it.
// The database and its -wal and -shm files are readable by their owner
// only (0600), whatever the process's umask and the folder's mode: SQLite
// gives the files it adds the database file's mode, so Open creates that
// file 0600 first, and narrows files an older version left wider.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, o Options) (*Store, error) {
	if err := privateFiles(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w, err := sql.Open("sqlite", dsn(path, roleWrite, o))
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
	r, err := sql.Open("sqlite", dsn(path, roleRead, o))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	cp, err := startCheckpointer(path, o)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	st := &Store{path: path, opts: o, w: w, r: r, cp: cp, ws: newStmtCache(w), rs: newStmtCache(r)}
	// Prepared before any transaction: w has one connection, so preparing
	// during a transaction would wait for it for ever.
	for _, q := range sqlstore.Prepared(sqlstore.SQLite) {
		p, err := w.PrepareContext(ctx, q)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("sqlite: preparing: %w", err)
		}
		st.ws.stmts[q] = p
	}
	return st, nil
}

// privateFiles creates path 0600 if it is missing and makes it, and the
// -wal and -shm files beside it, 0600 if they exist.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Update implements ledger.Store. With one writer there are no
// serialization failures to retry.
func (s *Store) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return unavailable(err)
	}
	defer s.ws.prepareWanted(ctx)
	var rows int64 // the rows this transaction changed, once committed
	defer func() { s.cp.wake(rows) }()
	// Parsed each time, never prepared: SQLite sets wal_autocheckpoint when
	// it compiles the PRAGMA, so a prepared one run again sets the bound
	// only when SQLite compiles it again (a throwaway check: run alone, it
	// set nothing; run inside a transaction, it did).
	if _, err := tx.ExecContext(ctx, s.cp.walBound()); err != nil {
		tx.Rollback()
		return unavailable(err)
	}
	if err := fn(sqlstore.Wrap(tx, sqlstore.SQLite).WithPrepared(s.ws.get)); err != nil {
		tx.Rollback()
		return unavailable(err)
	}
	var total int64
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&total); err != nil {
		tx.Rollback()
		return unavailable(err)
	}
	changed := total - s.changes
	if changed < 0 { // a new connection counts from 0
		changed = total
	}
	s.changes = total // still inside the transaction: w's one connection is this one's
	if err := tx.Commit(); err != nil {
		return unavailable(err)
	}
	rows = changed
	return nil
}

// View implements ledger.Store.
func (s *Store) View(ctx context.Context, fn func(ledger.Tx) error) error {
	return unavailable(run(ctx, s.r, s.rs, &sql.TxOptions{ReadOnly: true}, fn))
}

func run(ctx context.Context, db *sql.DB, c *stmtCache, opts *sql.TxOptions, fn func(ledger.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer c.prepareWanted(ctx)
	if err := fn(sqlstore.Wrap(tx, sqlstore.SQLite).WithPrepared(c.get)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Close implements ledger.Store.
func (s *Store) Close() error {
	s.ws.close()
	s.rs.close()
	err0 := s.cp.close()
	err1 := s.r.Close()
	err2 := s.w.Close()
	if err0 != nil {
		return err0
	}
	if err1 != nil {
		return err1
	}
	return err2
}
