package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
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

// TestOpenSalesKeptThroughTheirNewKey: migration 013 moves the open sales
// (the holds on merchant accounts) into a table found by payer, not by
// sale ID: every row and column survives it, and a refund's lookup by
// payer or till, and the sweeps by time, are index searches.
func TestOpenSalesKeptThroughTheirNewKey(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := sqlstore.Migrate(ctx, db, migrationsBefore(t, "013"), "migrations"); err != nil {
		t.Fatal(err)
	}
	const cols = `pid, payer, counter, device, account, amount, closes, stale, src_device, src_counter, released`
	if _, err := db.ExecContext(ctx, `INSERT INTO open_sales (`+cols+`) VALUES
		(x'01', x'a1', 7, x'b1', 'shop', 100, 500, 900, x'c1', 3, 0),
		(x'02', x'a1', 7, x'b2', 'shop2', 80, 600, 1000, x'c2', 4, 1),
		(x'03', x'a2', 1, x'b1', 'shop', 9223372036854775807, 9223372036854775807, 9223372036854775807, x'a2', 1, 0)`); err != nil {
		t.Fatal(err)
	}
	dump := func() string {
		t.Helper()
		var s string
		if err := db.QueryRowContext(ctx, `SELECT group_concat(r, ';') FROM (SELECT concat_ws(',', hex(pid), hex(payer), counter, hex(device), account,
			amount, closes, stale, hex(src_device), src_counter, released) AS r FROM open_sales ORDER BY pid)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := dump()
	if err := sqlstore.Migrate(ctx, db, migrations, "migrations"); err != nil {
		t.Fatal(err)
	}
	if after := dump(); after != before {
		t.Fatalf("open sales changed by the migration:\n%s\n%s", before, after)
	}
	for q, index := range map[string]string{
		`SELECT * FROM open_sales WHERE payer = x'a1' AND pid = x'02'`:               "open_sales_payer (payer=?)",
		`SELECT * FROM open_sales WHERE device = x'b1' AND pid = x'03'`:              "open_sales_device (device=?)",
		`DELETE FROM open_sales WHERE payer = x'a1' AND counter = 7 AND pid = x'01'`: "open_sales_payer (payer=? AND counter=?)",
		// CloseSales and CloseStaleSales, through the indexes by the hour.
		`DELETE FROM open_sales WHERE device = x'b1' AND closes / 3600 <= 0 AND closes <= 550`:                          "open_sales_device (device=? AND <expr><?)",
		`SELECT payer FROM open_sales WHERE released = 0 AND stale / 3600 <= 0 AND stale <= 950 ORDER BY stale LIMIT 5`: "open_sales_stale (released=? AND <expr><?)",
	} {
		var plan []string
		rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, aux int
			var detail string
			if err := rows.Scan(&id, &parent, &aux, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) == 0 || !strings.Contains(plan[0], "SEARCH open_sales USING INDEX "+index) {
			t.Errorf("%s: plan %q, want a search of %s", q, plan, index)
		}
	}
}

// migrationsBefore is the migrations whose file names sort before name:
// what a build before that migration had.
func migrationsBefore(t *testing.T, name string) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if path.Base(n) < name {
			b, err := fs.ReadFile(migrations, n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = &fstest.MapFile{Data: b}
		}
	}
	return out
}
