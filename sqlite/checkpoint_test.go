package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
)

// TestCommitsReachTheDatabaseFile: with room on the disk, busy commits
// (thousands of rows, far fewer pages than the writer's own checkpoint
// waits for) are copied into the database file by the background
// checkpointer, so the writer's commits do not copy them; a quiet
// ledger's few rows are not; with little room nothing is copied but by
// the writer, at SQLite's default bound, as without the checkpointer,
// and the disk filling again stops it. The database file is read alone
// (a copy without its WAL): it holds a committed value only once a
// checkpoint copied it.
func TestCommitsReachTheDatabaseFile(t *testing.T) {
	var free atomic.Uint64
	free.Store(2 << 30) // 2 GiB: roomy
	was := diskFree
	diskFree = func(string) (uint64, error) { return free.Load(), nil }
	t.Cleanup(func() { diskFree = was })

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// put commits v as meta "probe", with rows more rows beside it.
	put := func(v string, rows int) {
		t.Helper()
		if err := s.Update(ctx, func(tx ledger.Tx) error {
			for i := range rows {
				if err := tx.PutMeta(ctx, fmt.Sprintf("fill%d", i), []byte(v)); err != nil {
					return err
				}
			}
			return tx.PutMeta(ctx, "probe", []byte(v))
		}); err != nil {
			t.Fatal(err)
		}
	}
	bound := func() int {
		t.Helper()
		var pages int
		if err := s.w.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		return pages
	}
	// looked waits for the checkpointer to have looked at the disk and
	// found it roomy or not: a transaction begun after that takes the
	// bound it implies (a fixed sleep flaked once commits got faster).
	looked := func(roomy bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); s.cp.roomy.Load() != roomy; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the checkpointer has not looked 10 s after a commit woke it")
			}
		}
	}
	notCopied := func(when string, want string) {
		t.Helper()
		time.Sleep(200 * time.Millisecond) // ten checkpoint gaps
		if got := fileAlone(ctx, t, path); got != want {
			t.Fatalf("%s the database file holds %q, want %q", when, got, want)
		}
	}

	for range 3 {
		put("quiet", 0)
	}
	notCopied("after a quiet ledger's commits", "")

	free.Store(100 << 20) // 100 MiB: tight
	for range 3 {
		put("tight", checkpointRows)
	}
	notCopied("with 100 MiB free", "")
	looked(false)
	put("tight", 0) // a transaction after the look takes the new bound
	if b := bound(); b != tightPages {
		t.Fatalf("with 100 MiB free the writer's bound is %d pages, want %d", b, tightPages)
	}

	free.Store(2 << 30)
	for range 3 {
		put("roomy", checkpointRows) // the first wakes the checkpointer, which looks again
	}
	deadline := time.Now().Add(10 * time.Second)
	for got := fileAlone(ctx, t, path); got != "roomy"; got = fileAlone(ctx, t, path) {
		if time.Now().After(deadline) {
			t.Fatalf("with 2 GiB free the database file holds %q, not the committed value, 10 s after the commit", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	put("roomy", 0) // a transaction after the look takes the new bound
	if b := bound(); b != roomyPages {
		t.Fatalf("with 2 GiB free the writer's bound is %d pages, want %d", b, roomyPages)
	}

	// The disk fills again: the checkpointer stops copying, the bound
	// comes back down.
	free.Store(100 << 20)
	put("tight again", checkpointRows) // wakes the checkpointer, which looks first
	looked(false)
	put("tight again", checkpointRows)
	notCopied("with 100 MiB free again", "roomy")
	if b := bound(); b != tightPages {
		t.Fatalf("with 100 MiB free again the writer's bound is %d pages, want %d", b, tightPages)
	}
}

// fileAlone reads meta "probe" from a copy of the database file made
// without its WAL; "" if the copy does not hold it.
func fileAlone(ctx context.Context, t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "alone.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+cp+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v []byte
	if err := db.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'probe'`).Scan(&v); err != nil {
		return "" // no such table or row: not copied
	}
	return string(v)
}

// TestCloseStopsTheCheckpointer: Close returns with the checkpointer's
// connection closed, also right after a commit woke it, and Close again
// returns nil.
func TestCloseStopsTheCheckpointer(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.PutMeta(ctx, "probe", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.cp.done:
	default:
		t.Fatal("the checkpointer still runs after Close")
	}
	if err := s.cp.db.PingContext(ctx); err == nil {
		t.Fatal("the checkpointer's connection is still open after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close again: %v", err)
	}
}

// TestSizesWaitForTheCheckpointer: Sizes, asked right after busy commits
// while the checkpointer copies them, still reports a database file
// holding every table (its own checkpoint waits its turn).
func TestSizesWaitForTheCheckpointer(t *testing.T) {
	was := diskFree
	diskFree = func(string) (uint64, error) { return 2 << 30, nil }
	t.Cleanup(func() { diskFree = was })
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for round := range 20 {
		if err := s.Update(ctx, func(tx ledger.Tx) error {
			for i := range checkpointRows {
				if err := tx.PutMeta(ctx, fmt.Sprintf("r%d-%d", round, i), make([]byte, 100)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(round%4) * time.Millisecond)
		sz, err := s.Sizes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sz.Disk < sz.Hot() {
			t.Fatalf("round %d: the file holds %d bytes, its tables %d: Sizes did not checkpoint", round, sz.Disk, sz.Hot())
		}
	}
}
