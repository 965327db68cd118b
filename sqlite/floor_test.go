package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/sqlite"
)

// TestWriteFloorWritesEveryRow: the floor writes every row of the tables
// settlement appends to, as the ledger holds them (none lost, none
// changed: a cheaper floor would understate what writing them costs), in
// the commits asked for, over a copy of the other tables.
func TestWriteFloorWritesEveryRow(t *testing.T) {
	ctx := context.Background()
	path, st, svc, a, m := payerAndShopOnSQLite(t, "floor")
	for range 150 {
		m.Receive(a.Pay(m.ID, 100))
	}
	// What the set-up wrote (the deposit's and the load's statement lines
	// and notifications): WriteFloorAfter leaves it out.
	before, err := st.RowCounts(ctx, []string{"outbox", "lines"})
	if err != nil || before["lines"] == 0 || before["outbox"] == 0 {
		t.Fatalf("rows before the uploads: %v %v", before, err)
	}
	for _, d := range []*ledgertest.Device{m, a} {
		if _, err := svc.Sync(ctx, d.UploadAll()); err != nil {
			t.Fatal(err)
		}
	}

	check := func(floorDir string, f sqlite.Floor, skipped int) {
		t.Helper()
		if f.Transactions != 7 || f.Wall <= 0 {
			t.Fatalf("floor %+v", f)
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if _, err := db.ExecContext(ctx, `ATTACH DATABASE ? AS floor`, filepath.Join(floorDir, "floor.db")); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, tb := range append([]string{"devices", "accounts", "loads"}, sqlite.FloorTables...) {
			var n, missing, extra int
			q := func(s string, v *int) {
				if err := db.QueryRowContext(ctx, s).Scan(v); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			q(fmt.Sprintf(`SELECT count(*) FROM main.%q`, tb), &n)
			q(fmt.Sprintf(`SELECT count(*) FROM (SELECT * FROM main.%q EXCEPT SELECT * FROM floor.%q)`, tb, tb), &missing)
			q(fmt.Sprintf(`SELECT count(*) FROM (SELECT * FROM floor.%q EXCEPT SELECT * FROM main.%q)`, tb, tb), &extra)
			if missing != 0 || extra != 0 {
				t.Fatalf("%s: %d rows, %d missing from the floor's copy, %d not the ledger's", tb, n, missing, extra)
			}
			switch tb {
			case "devices", "accounts", "loads":
			default:
				total += n
			}
		}
		perTable := 0
		for _, tb := range sqlite.FloorTables {
			perTable += f.TableRows[tb]
			if f.TableRows[tb] > 0 && f.CPU > 0 && f.TableCPU[tb] <= 0 {
				t.Fatalf("%s: %d rows in no CPU time", tb, f.TableRows[tb])
			}
		}
		if perTable != f.Rows {
			t.Fatalf("the tables' rows add up to %d, not %d", perTable, f.Rows)
		}
		if total-skipped != f.Rows || total < 450 {
			t.Fatalf("the floor wrote %d rows, the tables hold %d, %d of them before", f.Rows, total, skipped)
		}
	}
	dir1 := t.TempDir()
	f, err := st.WriteFloor(ctx, dir1, sqlite.FloorTables, 7)
	if err != nil {
		t.Fatal(err)
	}
	check(dir1, f, 0)
	dir2 := t.TempDir()
	if f, err = st.WriteFloorAfter(ctx, dir2, sqlite.FloorTables, 7, before); err != nil {
		t.Fatal(err)
	}
	check(dir2, f, before["lines"]+before["outbox"])
}
