package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/postgres/pgtest"
	"github.com/offpay/offpay/storetest"
)

// dsn returns the test server's address or skips.
func dsn(t testing.TB) string { return pgtest.URL(t) }

// open creates a schema of its own for one test and drops it afterwards.
func open(t testing.TB) ledger.Store { return pgtest.Open(t) }

func TestContract(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) ledger.Store { return open(t) })
}

func BenchmarkSettle(b *testing.B) {
	n := 100000
	if testing.Short() {
		n = 10000
	}
	for _, mode := range []string{"payer", "payee", "claim"} {
		b.Run(mode, func(b *testing.B) { storetest.Bench(b, open, n, mode) })
	}
}

// TestReopen: a second Open of a migrated schema applies nothing twice and
// sees the data.
func TestReopen(t *testing.T) {
	url := dsn(t)
	ctx := context.Background()
	s := open(t).(*postgres.Store)
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('x', 'y')`); err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := s.DB().QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	s2, err := postgres.Open(ctx, url, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s2.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil || n != len(files) { // each migration once
		t.Fatalf("schema_version rows %d, migrations %d: %v", n, len(files), err)
	}
	if err := s2.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM meta`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("meta rows %d: %v", n, err)
	}
}

// TestOutboxLZ4 checks that Open makes outbox payloads compress with lz4
// where the server has it (pglz cost ~2 ms per big upload), and that
// opening again keeps it.
func TestOutboxLZ4(t *testing.T) {
	s := open(t).(*postgres.Store)
	ctx := context.Background()
	var has bool
	if err := s.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_settings
		WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))`).Scan(&has); err != nil {
		t.Fatal(err)
	}
	if !has {
		t.Skip("server built without lz4")
	}
	for _, table := range []string{"outbox", "outbox_archive"} {
		var c string
		if err := s.DB().QueryRowContext(ctx, `SELECT attcompression::text FROM pg_attribute
			WHERE attrelid = $1::regclass AND attname = 'payload'`, table).Scan(&c); err != nil {
			t.Fatal(err)
		}
		if c != "l" {
			t.Fatalf("%s.payload compression %q, want l (lz4)", table, c)
		}
	}
}

// TestScenarios replays the stateful conformance vectors of
// spec/scenarios (SPEC.md section 17) on PostgreSQL.
func TestScenarios(t *testing.T) {
	storetest.RunScenarios(t, func(t *testing.T) ledger.Store { return open(t) }, "../spec/scenarios")
}

// TestRefusesAsyncCommit: a server whose commits return before they are
// durable (synchronous_commit off or local) is refused, since the ledger
// acknowledges uploads on commit; with AllowAsyncCommit it opens and says
// what it found.
func TestRefusesAsyncCommit(t *testing.T) {
	url := dsn(t)
	ctx := context.Background()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, v := range []string{"off", "local"} {
		_, err := postgres.Open(ctx, url+sep+"synchronous_commit="+v, "")
		if !errors.Is(err, postgres.ErrAsyncCommit) {
			t.Fatalf("synchronous_commit=%s: %v", v, err)
		}
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "offpay_test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	defer admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	s, err := postgres.OpenWith(ctx, url+sep+"synchronous_commit=off", schema, postgres.Options{AllowAsyncCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SyncCommit() != "off" {
		t.Fatalf("SyncCommit %q", s.SyncCommit())
	}
	s2, err := postgres.Open(ctx, url, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.SyncCommit() != "on" {
		t.Fatalf("default server: SyncCommit %q", s2.SyncCommit())
	}
}

// TestBackupVerifiesInScratch: a pg_dump backup taken while the store
// serves restores into a scratch database with its schema and data, and
// the scratch database is dropped afterwards.
func TestBackupVerifiesInScratch(t *testing.T) {
	url := dsn(t)
	ctx := context.Background()
	s := open(t).(*postgres.Store)
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.PutMeta(ctx, "probe", []byte("kept")) }); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir() + "/ledger.dump"
	if err := s.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	sc, drop, err := postgres.Scratch(ctx, url, out)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	err = sc.View(ctx, func(tx ledger.Tx) (err error) { got, err = tx.Meta(ctx, "probe"); return err })
	drop()
	if err != nil || string(got) != "kept" {
		t.Fatalf("scratch copy: %q %v", got, err)
	}
}

// TestKeptConflictingIsBusy: a transaction that loses to others at every
// attempt ends as unavailable (HTTP 503: the client retries later), not as
// an internal error, and nothing it did stays.
func TestKeptConflictingIsBusy(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	attempts := 0
	err := s.Update(ctx, func(tx ledger.Tx) error {
		attempts++
		if err := tx.InsertAccount(ctx, &ledger.AccountRow{Name: "never"}); err != nil {
			return err
		}
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	})
	var oe *offpay.Error
	if !errors.As(err, &oe) || oe.Code != offpay.EUNAVAILABLE || attempts < 2 {
		t.Fatalf("after %d attempts: %v", attempts, err)
	}
	if err := s.View(ctx, func(tx ledger.Tx) error {
		a, err := tx.Account(ctx, "never")
		if err == nil && a != nil {
			t.Errorf("the account of a failed transaction exists")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLoserRunsAlone: a transaction that kept losing to others is not left
// to starve. Once it has lost often enough it runs with no other writer: a
// writer that begins meanwhile waits until it commits, and then runs.
func TestLoserRunsAlone(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	inside, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // on a failure too: the schema's drop waits for the loser
	loserDone := make(chan error, 1)
	go func() {
		attempts := 0
		loserDone <- s.Update(ctx, func(tx ledger.Tx) error {
			attempts++
			if attempts <= postgres.EscalateAfter {
				return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
			}
			if err := tx.InsertAccount(ctx, &ledger.AccountRow{Name: "loser"}); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	select {
	case <-inside:
	case err := <-loserDone:
		t.Fatalf("the losing transaction ended before it ran alone: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the losing transaction never ran")
	}
	otherRan := make(chan error, 1)
	go func() {
		otherRan <- s.Update(ctx, func(tx ledger.Tx) error {
			return tx.InsertAccount(ctx, &ledger.AccountRow{Name: "other"})
		})
	}()
	select {
	case err := <-otherRan:
		t.Fatalf("another writer ran while the loser ran alone (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	free()
	if err := <-loserDone; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-otherRan:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting writer never ran after the loser committed")
	}
	if err := s.View(ctx, func(tx ledger.Tx) error {
		for _, n := range []string{"loser", "other"} {
			if a, err := tx.Account(ctx, n); err != nil || a == nil {
				return fmt.Errorf("account %s: %v", n, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkPayOnline(b *testing.B) {
	for _, w := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			storetest.BenchOnline(b, func(tb testing.TB) ledger.Store { return open(tb) }, w)
		})
	}
}
