package replica_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/sqlite/replica"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type ledgerOn struct {
	st  *sqlite.Store
	svc *ledger.Service
}

func openLedger(t *testing.T, path string, keys *ledger.Keys) ledgerOn {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return ledgerOn{st, ledger.New(st, keys, ledger.Options{})}
}

func balance(t *testing.T, l ledgerOn, name string) int64 {
	t.Helper()
	a, err := l.svc.Account(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// TestReplicateAndRestore: deposits committed while a replicator ships
// them; the replica restores the newest state, and an earlier one by
// time; the last deposits, made after the last explicit sync, reach the
// replica through Close.
func TestReplicateAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	db, rdir := filepath.Join(dir, "data", "ledger.db"), filepath.Join(dir, "replica")
	os.Mkdir(filepath.Dir(db), 0o700)
	l := openLedger(t, db, keys)
	if _, err := l.svc.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	rep, err := replica.Start(ctx, db, rdir, "ledger-1", replica.Options{Interval: 20 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	deposit := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := l.svc.Deposit(ctx, "alice", 100, fmt.Sprintf("d%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	deposit(0, 30)
	if err := rep.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	mid := time.Now()
	time.Sleep(50 * time.Millisecond)
	deposit(30, 50)
	if err := rep.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := rep.Status(ctx)
	if err != nil || s.Replicated != s.Local || s.Local == 0 || s.LastSync.IsZero() {
		t.Fatalf("status after a sync: %+v %v", s, err)
	}
	deposit(50, 60) // shipped by Close
	if err := l.st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rep.Close(ctx); err != nil {
		t.Fatal(err)
	}

	restore := func(name string, at time.Time) int64 {
		t.Helper()
		out := filepath.Join(dir, name, "ledger.db")
		if _, err := replica.Restore(ctx, rdir, out, at); err != nil {
			t.Fatal(err)
		}
		r := openLedger(t, out, keys)
		defer r.st.Close()
		if err := r.st.Check(ctx); err != nil {
			t.Fatal(err)
		}
		return balance(t, r, "alice")
	}
	if got := restore("latest", time.Time{}); got != 6000 {
		t.Fatalf("newest state: balance %d, want 6000", got)
	}
	if got := restore("mid", mid); got != 3000 {
		t.Fatalf("state at %v: balance %d, want 3000", mid, got)
	}
	if _, err := replica.Restore(ctx, rdir, filepath.Join(dir, "early", "ledger.db"), mid.Add(-time.Hour)); !errors.Is(err, replica.ErrOutOfRange) {
		t.Fatalf("restore before the replica began: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "early", "ledger.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused restore wrote: %v", err)
	}
}

// TestReplicaFolderBelongsToOneLedger: a folder with another ledger's
// replica, or with anything else in it, is refused and left as it was;
// an empty one restores nothing.
func TestReplicaFolderBelongsToOneLedger(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	db, rdir := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "replica")
	l := openLedger(t, db, keys)
	defer l.st.Close()
	rep, err := replica.Start(ctx, db, rdir, "ledger-1", replica.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var other *replica.OtherLedgerError
	if _, err := replica.Start(ctx, db, rdir, "ledger-2", replica.Options{Logger: quiet()}); !errors.As(err, &other) || other.Have != "ledger-1" {
		t.Fatalf("another ledger's replica folder: %v", err)
	}
	if id, err := replica.LedgerID(rdir); err != nil || id != "ledger-1" {
		t.Fatalf("the refused start changed the folder: %q %v", id, err)
	}
	busy := filepath.Join(dir, "busy")
	os.Mkdir(busy, 0o700)
	os.WriteFile(filepath.Join(busy, "photo.jpg"), []byte("x"), 0o600)
	if _, err := replica.Start(ctx, db, busy, "ledger-1", replica.Options{Logger: quiet()}); !errors.Is(err, replica.ErrNotAReplica) {
		t.Fatalf("a folder of other files: %v", err)
	}
	if entries, _ := os.ReadDir(busy); len(entries) != 1 {
		t.Fatalf("the refused start wrote into the folder: %v", entries)
	}
	if _, err := replica.Restore(ctx, filepath.Join(dir, "empty"), filepath.Join(dir, "out.db"), time.Time{}); !errors.Is(err, replica.ErrNoReplica) {
		t.Fatalf("restore from no replica: %v", err)
	}
}
