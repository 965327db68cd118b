package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/offpay/offpay/ledger/sqlstore"
)

// TestMigrationSkippedByNumberStillRuns: a database migrated by a build
// that had 010 but not 009 (branches number their migrations apart) gets
// 009 when opened by a build that has both.
func TestMigrationSkippedByNumberStillRuns(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "l.db")
	db, err := sql.Open("sqlite", "file:"+p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	without := fstest.MapFS{}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		// That build's migrations: up to 010, without 009 (later ones,
		// such as 012 on payments_archive, came with both).
		if b := path.Base(n); b == "009_archive.sql" || b > "011" {
			continue
		}
		b, err := fs.ReadFile(migrations, n)
		if err != nil {
			t.Fatal(err)
		}
		without[n] = &fstest.MapFile{Data: b}
	}
	if err := sqlstore.Migrate(ctx, db, without, "migrations"); err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Migrate(ctx, db, migrations, "migrations"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'payments_archive'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("payments_archive after migrating again: %d tables (%v)", n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil || n != len(names) {
		t.Fatalf("schema_version holds %d versions, want %d (%v)", n, len(names), err)
	}
}
