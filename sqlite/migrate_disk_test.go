package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/offpay/offpay/ledger/sqlstore"
)

// TestMigration013OnAFullDisk ("fail the operator's machine"): migration
// 013 rebuilds open_sales, a copy of the table, in one transaction. On a
// file system too full for the copy (a tmpfs), opening the ledger with the
// new build fails with the disk-full error and changes nothing: still at
// version 12, every open sale as it was. Once space is freed the same
// Open migrates and keeps every row.
func TestMigration013OnAFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): the disk-full case is not exercised", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	p := filepath.Join(dir, "ledger.db")

	// A ledger of the build before 013, with 12,000 open sales (about
	// 2 MiB with their index).
	db, err := sql.Open("sqlite", dsn(p, roleWrite, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := sqlstore.Migrate(ctx, db, migrationsBefore(t, "013"), "migrations"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
		INSERT INTO open_sales (pid, payer, counter, device, account, amount, closes, stale, src_device, src_counter, released)
		SELECT randomblob(32), randomblob(16), i, randomblob(16), 'shop', i, 1000 + i, 2000 + i, randomblob(16), i, 0 FROM n`); err != nil {
		t.Fatal(err)
	}
	state := func(db *sql.DB) (version int, sales string) {
		t.Helper()
		if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) || ':' || SUM(amount) || ':' || hex(MIN(pid)) || ':' || hex(MAX(payer)) || ':' || SUM(closes + stale + src_counter)
			FROM open_sales`).Scan(&sales); err != nil {
			t.Fatal(err)
		}
		return version, sales
	}
	v, before := state(db)
	if v != 12 {
		t.Fatalf("set-up at version %d, want 12", v)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Fill the disk but for 512 KiB: less than the copy needs.
	filler := filepath.Join(dir, "filler")
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	if err := os.WriteFile(filler, make([]byte, free-512<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, p); err == nil {
		s.Close()
		t.Fatal("the ledger opened and migrated on a full disk")
	} else if testing.Verbose() {
		t.Logf("Open on a full disk: %v", err)
	} else if !strings.Contains(err.Error(), "full") {
		// modernc's message: "database or disk is full (13)".
		t.Fatalf("Open on a full disk: %v, want the disk-full error", err)
	}
	db, err = sql.Open("sqlite", dsn(p, roleWrite, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if v, after := state(db); v != 12 || after != before {
		t.Fatalf("after the failed migration: version %d, sales %s; want 12 and %s", v, after, before)
	}
	db.Close()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatalf("Open once space is freed: %v", err)
	}
	s.Close()
	db, err = sql.Open("sqlite", dsn(p, roleWrite, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	latest, err := strconv.Atoi(path.Base(names[len(names)-1])[:3])
	if err != nil {
		t.Fatal(err)
	}
	if v, after := state(db); v != latest || after != before {
		t.Fatalf("after migrating: version %d, sales %s; want %d and %s", v, after, latest, before)
	}
}
