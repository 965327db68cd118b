package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay/ledger/sqlstore"
	"github.com/offpay/offpay/sqlite"
)

// TestActivityPlan: the console's activity query reads each of its three
// tables (payments, conflicts, payments_archive) through its created_at
// index (migration 012), never by scanning the table.
func TestActivityPlan(t *testing.T) {
	db := planDB(t)
	all := queryPlan(t, db, sqlstore.ActivitySQL, int64(1), int64(2), int64(1))
	for _, table := range []string{"payments", "conflicts", "payments_archive"} {
		want := "SEARCH " + table + " USING COVERING INDEX " + table + "_created (created_at>? AND created_at<?)"
		if !strings.Contains(all, want) {
			t.Errorf("the activity query does not read %s by its index (want %q); plan:\n%s", table, want, all)
		}
	}
}

// TestStatusRowsPlan: a group commit's read of its uploaders' pending and
// lately resolved payments (sqlstore.StatusRows) searches each payer's
// rows through the indexes of pending and resolved payments, never a
// scan of a whole index (which grows with every payment stored).
func TestStatusRowsPlan(t *testing.T) {
	db := planDB(t)
	var args []any
	for i := range 3 {
		for range 4 {
			args = append(args, []byte{byte(i)}, int64(5))
		}
	}
	all := queryPlan(t, db, sqlstore.StatusRowsSQL(sqlstore.SQLite, 4), args...)
	for _, want := range []string{"SEARCH payments USING INDEX payments_open (payer=?)",
		"SEARCH payments USING INDEX payments_resolved (payer=? AND resolved_at>?)",
		"SEARCH payments USING INDEX payments_archive_resolved (payer=? AND resolved_at>?)"} {
		if !strings.Contains(all, want) {
			t.Errorf("the status rows are not read by their index (want %q); plan:\n%s", want, all)
		}
	}
	if strings.Contains(all, "SCAN payments") {
		t.Errorf("the status rows query scans payments:\n%s", all)
	}
}

// queryPlan returns SQLite's plan for q, a step a line.
func queryPlan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// planDB is a fresh ledger database, migrated by Open, on a plain
// connection of its own.
func planDB(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
