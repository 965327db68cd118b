package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestCommitsAreDurable: both connections run synchronous=FULL (2), so a
// commit is on disk when it returns; NORMAL (1) can lose the last commits
// on a power loss after the ledger has acknowledged them.
func TestCommitsAreDurable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var w, r int
	if err := s.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != 2 || r != 2 {
		t.Fatalf("synchronous: writer %d, readers %d; want 2 (FULL)", w, r)
	}
}
