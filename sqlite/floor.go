package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/offpay/offpay/internal/threadcpu"
)

// FloorTables are the tables settlement appends rows to: a payment's log
// entries, its row, its receipt, its open sale, its bank notification and
// its statement lines.
var FloorTables = []string{"entries", "payments", "receipts", "open_sales", "outbox", "lines"}

// Floor is what writing rows alone cost SQLite (WriteFloor).
type Floor struct {
	Rows         int           // rows written, in all tables
	Transactions int           // commits
	Wall         time.Duration // from the first BEGIN to the last COMMIT's return
	CPU          time.Duration // the writing thread's CPU time (0 where the system has no thread clock)
	// TableCPU is that CPU time spent inserting each table's rows, the
	// rest being BEGIN and COMMIT (writing the WAL, checkpoints).
	TableCPU  map[string]time.Duration
	TableRows map[string]int // rows written in each table
}

// floorChunk bounds the rows of one INSERT statement (the ledger's
// multi-row inserts are of this order).
const floorChunk = 64

// WriteFloor measures the store's floor: what SQLite alone costs to
// write the rows that s holds in tables (FloorTables), with nothing read,
// decided, encoded or verified. It makes a fresh database in dir (the
// same schema, pragmas, checkpoints and synchronous=FULL commits as
// Open), copies every other table of s into it untimed (the accounts and
// devices the rows refer to), then inserts the rows of tables through
// prepared multi-row statements in transactions commits, each with an
// equal share of every table (the ledger's group commits write each
// batch's rows so), timed on one thread as the ledger's writer is. The
// rows go in the order s keeps them, into tables that start empty, and
// no row is updated (settlement also updates devices and balances): a
// lower bound on what writing them costs, whatever the ledger decides.
func (s *Store) WriteFloor(ctx context.Context, dir string, tables []string, commits int) (Floor, error) {
	return s.WriteFloorAfter(ctx, dir, tables, commits, nil)
}

// RowCounts returns the rows each of tables holds: before a measured run,
// what WriteFloorAfter should leave out of the floor.
func (s *Store) RowCounts(ctx context.Context, tables []string) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range tables {
		var n int
		if err := s.r.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %q`, t)).Scan(&n); err != nil {
			return nil, unavailable(err)
		}
		out[t] = n
	}
	return out, nil
}

// WriteFloorAfter is WriteFloor of the rows written after the first
// before[t] of each table t (RowCounts taken before the run measured),
// those being copied untimed with the other tables. A table with rows to
// leave out must be a rowid table, whose rowid order is the order its rows
// were written in (the notifications and statement lines are).
func (s *Store) WriteFloorAfter(ctx context.Context, dir string, tables []string, commits int, before map[string]int) (Floor, error) {
	f := Floor{TableCPU: map[string]time.Duration{}, TableRows: map[string]int{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, err
	}
	dst, err := Open(ctx, filepath.Join(dir, "floor.db"))
	if err != nil {
		return f, err
	}
	defer dst.Close()
	conn, err := dst.w.Conn(ctx)
	if err != nil {
		return f, err
	}
	defer conn.Close()
	data, cols, err := floorRead(ctx, conn, s.path, tables, before)
	if err != nil {
		return f, err
	}
	commits = max(commits, 1)
	stmts := map[string]*sql.Stmt{} // a table's full-chunk INSERT
	for _, t := range tables {
		p, err := conn.PrepareContext(ctx, floorInsert(t, cols[t], floorChunk))
		if err != nil {
			return f, err
		}
		defer p.Close()
		stmts[t] = p
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := time.Now()
	c0, measured := threadcpu.Now()
	for i := range commits {
		done := f.Rows
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return f, err
		}
		// The bound Update sets, and the checkpointer woken after the
		// commit, as for the ledger's writes (checkpoint.go).
		if _, err := tx.ExecContext(ctx, dst.cp.walBound()); err != nil {
			tx.Rollback()
			return f, err
		}
		for _, t := range tables {
			rows := data[t]
			share := rows[i*len(rows)/commits : (i+1)*len(rows)/commits]
			a, _ := threadcpu.Now()
			if err := floorInsertRows(ctx, tx, stmts[t], t, cols[t], share); err != nil {
				tx.Rollback()
				return f, err
			}
			if measured {
				b, _ := threadcpu.Now()
				f.TableCPU[t] += b - a
			}
			f.Rows += len(share)
			f.TableRows[t] += len(share)
		}
		err = tx.Commit()
		dst.cp.wake(int64(f.Rows - done))
		if err != nil {
			return f, err
		}
	}
	f.Wall = time.Since(t0)
	if measured {
		c1, _ := threadcpu.Now()
		f.CPU = c1 - c0
	}
	f.Transactions = commits
	return f, nil
}

// floorRead attaches the database at src to conn, copies every table
// but those of tables into it, and the first before[t] rows of each table
// t of tables, and returns the rest of tables' rows (as the driver reads
// them) and their columns.
func floorRead(ctx context.Context, conn *sql.Conn, src string, tables []string, before map[string]int) (map[string][][]any, map[string][]string, error) {
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS src`, src); err != nil {
		return nil, nil, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE src`)
	timed := map[string]bool{}
	for _, t := range tables {
		timed[t] = true
	}
	var others []string
	rs, err := conn.QueryContext(ctx, `SELECT name FROM src.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, nil, err
	}
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			rs.Close()
			return nil, nil, err
		}
		if !timed[name] {
			others = append(others, name)
		}
	}
	if err := rs.Close(); err != nil {
		return nil, nil, err
	}
	for _, t := range others {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT OR IGNORE INTO main.%q SELECT * FROM src.%q`, t, t)); err != nil {
			return nil, nil, fmt.Errorf("copying %s: %w", t, err)
		}
	}
	data, cols := map[string][][]any{}, map[string][]string{}
	for _, t := range tables {
		q := fmt.Sprintf(`SELECT * FROM src.%q`, t)
		if k := before[t]; k > 0 {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO main.%q SELECT * FROM src.%q ORDER BY rowid LIMIT %d`, t, t, k)); err != nil {
				return nil, nil, fmt.Errorf("copying %s's first %d rows: %w", t, k, err)
			}
			q = fmt.Sprintf(`SELECT * FROM src.%q ORDER BY rowid LIMIT -1 OFFSET %d`, t, k)
		}
		rs, err := conn.QueryContext(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		names, err := rs.Columns()
		if err != nil {
			rs.Close()
			return nil, nil, err
		}
		cols[t] = names
		for rs.Next() {
			row := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range row {
				ptrs[i] = &row[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				rs.Close()
				return nil, nil, err
			}
			data[t] = append(data[t], row)
		}
		if err := rs.Close(); err != nil {
			return nil, nil, err
		}
	}
	return data, cols, nil
}

// floorInsert is an INSERT of n rows into table.
func floorInsert(table string, cols []string, n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf(`INSERT INTO %q (%s) VALUES %s`, table, strings.Join(quoted, ","),
		strings.TrimSuffix(strings.Repeat(one+",", n), ","))
}

// floorInsertRows inserts rows in chunks of floorChunk through full (the
// prepared statement of a full chunk), the remainder through one prepared
// in tx.
func floorInsertRows(ctx context.Context, tx *sql.Tx, full *sql.Stmt, table string, cols []string, rows [][]any) error {
	args := make([]any, 0, floorChunk*len(cols))
	stmt := tx.StmtContext(ctx, full)
	for len(rows) > 0 {
		n := min(len(rows), floorChunk)
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		st := stmt
		if n < floorChunk {
			p, err := tx.PrepareContext(ctx, floorInsert(table, cols, n))
			if err != nil {
				return err
			}
			defer p.Close()
			st = p
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}
