//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
)

// TestFilesArePrivate: under the usual umask (022), in a folder the
// operator made 0755 beforehand, the database, its WAL and its shared
// memory file are 0600; files an older version left 0644 are narrowed at
// the next open.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "ledger")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ledger.db")
	ctx := context.Background()
	check := func() {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s is %v, want 0600", filepath.Base(p), m)
			}
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.PutMeta(ctx, "x", []byte("y")) }); err != nil {
		t.Fatal(err)
	}
	check()
	s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(ctx, func(tx ledger.Tx) error { return tx.PutMeta(ctx, "x", []byte("z")) }); err != nil {
		t.Fatal(err)
	}
	check()
}
