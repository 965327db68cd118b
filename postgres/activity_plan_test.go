package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/offpay/offpay/ledger/sqlstore"
	"github.com/offpay/offpay/postgres"
)

// TestActivityPlan: the console's activity query can read each of its
// three tables (payments, conflicts, payments_archive) through its
// created_at index (migration 012). Sequential scans are discouraged for
// the check: on the test's empty tables the planner would rightly prefer
// them, on a ledger's it does not (BenchmarkActivity).
func TestActivityPlan(t *testing.T) {
	tx := planTx(t)
	all := explain(t, tx, sqlstore.ActivitySQL, int64(1), int64(2), int64(1))
	for _, table := range []string{"payments", "conflicts", "payments_archive"} {
		idx := table + "_created"
		// "Index (Only) Scan using IDX on TABLE" or "Bitmap Index Scan on IDX".
		if !strings.Contains(all, " using "+idx+" on "+table) && !strings.Contains(all, "Bitmap Index Scan on "+idx+" ") {
			t.Errorf("the activity query does not read %s by its index %s_created; plan:\n%s", table, table, all)
		}
	}
	if strings.Contains(all, "Seq Scan") {
		t.Errorf("the activity query scans a table; plan:\n%s", all)
	}
}

// TestStatusRowsPlan: a group commit's read of its uploaders' pending and
// lately resolved payments (sqlstore.StatusRows) can read each payer's
// rows through the indexes of pending and resolved payments (sequential
// scans discouraged, as in TestActivityPlan).
func TestStatusRowsPlan(t *testing.T) {
	tx := planTx(t)
	all := explain(t, tx, sqlstore.StatusRowsSQL(sqlstore.Postgres, 2), [][]byte{{1}, {2}}, []int64{5, 6})
	for _, idx := range []string{"payments_open", "payments_resolved", "payments_archive_resolved"} {
		if !strings.Contains(all, " using "+idx+" on ") && !strings.Contains(all, "Bitmap Index Scan on "+idx+" ") {
			t.Errorf("the status rows query does not read by %s; plan:\n%s", idx, all)
		}
	}
	if strings.Contains(all, "Seq Scan") {
		t.Errorf("the status rows query scans a table; plan:\n%s", all)
	}
}

// planTx is a transaction on a fresh store with sequential scans
// discouraged, rolled back when the test ends.
func planTx(t *testing.T) *sql.Tx {
	t.Helper()
	s := open(t).(*postgres.Store)
	ctx := context.Background()
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	return tx
}

// explain returns PostgreSQL's plan for q, a line a row.
func explain(t *testing.T, tx *sql.Tx, q string, args ...any) string {
	t.Helper()
	rows, err := tx.QueryContext(context.Background(), `EXPLAIN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
