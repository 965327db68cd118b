// Package sqlstore implements ledger.Tx once in SQL that SQLite and
// PostgreSQL (and CockroachDB) all accept; the sqlite and postgres packages
// own connections, migrations and transaction retries.
package sqlstore

import (
	"context"
	"database/sql"
	"iter"
	"math/big"
	"strconv"
	"strings"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// maxParams bounds the parameters of one multi-row statement (SQLite
// allows 32766, PostgreSQL 65535).
const maxParams = 30000

// Dialect is the SQL database behind a Tx.
type Dialect int

// Dialects.
const (
	Postgres Dialect = iota
	SQLite
)

// CopyFunc bulk-loads rows into table inside the transaction (PostgreSQL's
// COPY, several times faster than multi-row INSERT for big uploads).
type CopyFunc func(ctx context.Context, table string, cols []string, rows [][]any) error

// PrepFunc returns query prepared once on the store's one writer
// connection (so that a transaction there reuses it), or nil.
type PrepFunc func(query string) *sql.Stmt

// Tx adapts a database/sql transaction to ledger.Tx.
type Tx struct {
	tx    *sql.Tx
	d     Dialect
	copy  CopyFunc
	prep  PrepFunc
	stmts map[string]*sql.Stmt // this transaction's handles on prepared statements

	holding bool  // held.go
	held    held  // held.go
	heldErr error // a failed write of held rows: the transaction must not commit
}

var (
	_ ledger.Tx          = (*Tx)(nil)
	_ ledger.WriteHolder = (*Tx)(nil)
)

// Wrap returns tx as a ledger.Tx.
func Wrap(tx *sql.Tx, d Dialect) *Tx { return &Tx{tx: tx, d: d} }

// WithCopy makes big plain inserts use copy.
func (t *Tx) WithCopy(copy CopyFunc) *Tx { t.copy = copy; return t }

// WithPrepared makes statements the store has prepared run without being
// parsed again (on SQLite, multi-row statements come in a few fixed sizes
// so that they can be: pieces): SQLite spends a quarter of a big insert,
// and half of a small upload's work, parsing SQL.
func (t *Tx) WithPrepared(prep PrepFunc) *Tx { t.prep = prep; return t }

// chunkSizes are the row counts of multi-row statements on SQLite
// (pieces): any count is a sum of at most one of each below the largest.
var chunkSizes = []int{256, 128, 64, 32, 16, 8, 4, 2, 1}

// copyMin is the smallest insert worth a COPY's extra round trips.
const copyMin = 64

func (t *Tx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	if err := t.beforeStatement(ctx, q); err != nil {
		return 0, err
	}
	var r sql.Result
	var err error
	if s := t.stmt(ctx, q); s != nil {
		r, err = s.ExecContext(ctx, args...)
	} else {
		r, err = t.tx.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// query runs q, prepared if the store has it.
func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := t.beforeStatement(ctx, q); err != nil {
		return nil, err
	}
	if s := t.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// queryRow runs q, prepared if the store has it.
func (t *Tx) queryRow(ctx context.Context, q string, args ...any) row {
	if err := t.beforeStatement(ctx, q); err != nil {
		// The held rows' error, not the next statement's (on PostgreSQL
		// "transaction aborted", which no retry would take up).
		return row{err: err}
	}
	if s := t.stmt(ctx, q); s != nil {
		return row{Row: s.QueryRowContext(ctx, args...)}
	}
	return row{Row: t.tx.QueryRowContext(ctx, q, args...)}
}

// row is a *sql.Row, or the error that kept its statement from running.
type row struct {
	*sql.Row
	err error
}

// Scan is sql.Row's, or the error.
func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.Row.Scan(dest...)
}

// stmt is q as a statement of this transaction if the store has it
// prepared, else nil (the store may prepare it for the next transaction).
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.prep == nil {
		return nil
	}
	if s, ok := t.stmts[q]; ok {
		return s
	}
	p := t.prep(q)
	if p == nil {
		return nil
	}
	s := t.tx.StmtContext(ctx, p)
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = s
	return s
}

// inList is an IN list for the tuples of k values in args, with args
// padded to a power-of-two count of tuples by repeating the last (IN
// ignores duplicates): a few statement texts then serve every count and
// stay prepared.
func (t *Tx) inList(args []any, k int) (string, []any) {
	n := len(args) / k
	m := 1
	for m < n {
		m *= 2
	}
	for len(args) < m*k {
		args = append(args, args[len(args)-k:]...)
	}
	if k == 1 {
		return t.values(1, m), args
	}
	return "(" + t.values(m, k) + ")", args
}

// values returns "($1,...,$k),($k+1,...)" for n rows of k columns, the
// only parameters of its statement. SQLite gets "?": it looks numbered
// parameters up by name, which is quadratic in a statement's parameters.
func (t *Tx) values(n, k int) string {
	var b strings.Builder
	p := 1
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := 0; j < k; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			if t.d == SQLite {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(p))
			}
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// insertMany inserts rows with one statement per chunk, or with copy for
// big plain inserts; row(i) returns the i-th row's values. head is
// "INSERT INTO table (col, ...)".
func (t *Tx) insertMany(ctx context.Context, head, tail string, cols, n int, row func(i int) []any) error {
	if t.copy != nil && tail == "" && n >= copyMin {
		table, list, _ := strings.Cut(strings.TrimPrefix(head, "INSERT INTO "), " (")
		names := strings.Split(strings.TrimSuffix(list, ")"), ", ")
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = row(i)
		}
		if err := t.beforeStatement(ctx, "COPY "+table); err != nil {
			return err
		}
		return t.copy(ctx, table, names, rows)
	}
	for lo, hi := range t.pieces(n, maxParams/cols) {
		args := make([]any, 0, (hi-lo)*cols)
		for i := lo; i < hi; i++ {
			args = append(args, row(i)...)
		}
		if _, err := t.exec(ctx, head+" VALUES "+t.values(hi-lo, cols)+tail, args...); err != nil {
			return err
		}
	}
	return nil
}

// pieces yields the rows [lo, hi) of each statement that n rows go in,
// at most per rows each. On SQLite the sizes are chunkSizes', so that a
// multi-row statement has one of a few texts and stays prepared (the
// store's statement cache): with a text for every row count, a crowd's
// group commits parsed a new text at nearly every batch and filled the
// cache with statements run once. Elsewhere: per rows, then the rest.
func (t *Tx) pieces(n, per int) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for lo := 0; lo < n; {
			size := min(n-lo, per)
			if t.d == SQLite {
				for _, c := range chunkSizes {
					if c <= size {
						size = c
						break
					}
				}
			}
			if !yield(lo, lo+size) {
				return
			}
			lo += size
		}
	}
}

// Prepared lists the statements worth preparing ahead for d: the
// multi-row inserts of log entries, payments and statement lines in each
// chunk size.
func Prepared(d Dialect) []string {
	t := &Tx{d: d}
	var out []string
	for _, ins := range []struct {
		head string
		cols int
	}{{insertEntries, 5}, {insertPayments, paymentNCols}, {insertLines, 7}, {insertReceipts, 5}} {
		for _, n := range chunkSizes {
			out = append(out, ins.head+" VALUES "+t.values(n, ins.cols))
		}
	}
	return out
}

func id(k protocol.KeyID) []byte { return k[:] }

func keyID(b []byte) (k protocol.KeyID) { copy(k[:], b); return }

func hash(b []byte) (h protocol.Hash) { copy(h[:], b); return }

// Savepoint implements ledger.Tx. name is the ledger's own identifier.
func (t *Tx) Savepoint(ctx context.Context, name string) error {
	_, err := t.exec(ctx, `SAVEPOINT `+name)
	return err
}

// RollbackTo implements ledger.Tx.
func (t *Tx) RollbackTo(ctx context.Context, name string) error {
	_, err := t.exec(ctx, `ROLLBACK TO SAVEPOINT `+name)
	return err
}

// Release implements ledger.Tx.
func (t *Tx) Release(ctx context.Context, name string) error {
	_, err := t.exec(ctx, `RELEASE SAVEPOINT `+name)
	return err
}

// Meta implements ledger.Tx.
func (t *Tx) Meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := t.queryRow(ctx, `SELECT v FROM meta WHERE k = $1`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return v, err
}

// PutMeta implements ledger.Tx.
func (t *Tx) PutMeta(ctx context.Context, key string, val []byte) error {
	_, err := t.exec(ctx, `INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, key, val)
	return err
}

const accountCols = `name, merchant, frozen, balance, line_seq, recovered, lost, created_at, display_name`

func scanAccount(sc interface{ Scan(...any) error }) (*ledger.AccountRow, error) {
	a := new(ledger.AccountRow)
	err := sc.Scan(&a.Name, &a.Merchant, &a.Frozen, &a.Balance, &a.LineSeq, &a.Recovered, &a.Lost, &a.CreatedAt, &a.DisplayName)
	return a, err
}

// Account implements ledger.Tx.
func (t *Tx) Account(ctx context.Context, name string) (*ledger.AccountRow, error) {
	a, err := scanAccount(t.queryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE name = $1`, name))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return a, err
}

// Accounts implements ledger.Tx.
func (t *Tx) Accounts(ctx context.Context) ([]ledger.AccountRow, error) {
	rows, err := t.query(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.AccountRow
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// AccountsNamed implements ledger.Tx.
func (t *Tx) AccountsNamed(ctx context.Context, names []string) (map[string]*ledger.AccountRow, error) {
	out := map[string]*ledger.AccountRow{}
	const per = 500
	for lo := 0; lo < len(names); lo += per {
		chunk := names[lo:min(lo+per, len(names))]
		args := make([]any, len(chunk))
		for i, n := range chunk {
			args[i] = n
		}
		in, args := t.inList(args, 1)
		rows, err := t.query(ctx, `SELECT `+accountCols+` FROM accounts WHERE name IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[a.Name] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InsertAccount implements ledger.Tx.
func (t *Tx) InsertAccount(ctx context.Context, a *ledger.AccountRow) error {
	_, err := t.exec(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		a.Name, a.Merchant, a.Frozen, a.Balance, a.LineSeq, a.Recovered, a.Lost, a.CreatedAt, a.DisplayName)
	return err
}

// UpdateAccount implements ledger.Tx.
func (t *Tx) UpdateAccount(ctx context.Context, a *ledger.AccountRow) error {
	_, err := t.exec(ctx, `UPDATE accounts SET frozen = $2, balance = $3, line_seq = $4, recovered = $5, lost = $6 WHERE name = $1`,
		a.Name, a.Frozen, a.Balance, a.LineSeq, a.Recovered, a.Lost)
	return err
}

// InsertLines implements ledger.Tx.
func (t *Tx) InsertLines(ctx context.Context, ls []ledger.LineRow) error {
	return t.insertMany(ctx, insertLines, ``, 7, len(ls), func(i int) []any {
		l := &ls[i]
		return []any{l.Account, l.Seq, l.Kind, l.Amount, l.Balance, l.Ref, l.CreatedAt}
	})
}

// Lines implements ledger.Tx.
func (t *Tx) Lines(ctx context.Context, account string) ([]ledger.LineRow, error) {
	rows, err := t.query(ctx, `SELECT account, seq, kind, amount, balance, ref, created_at FROM lines_archive WHERE account = $1
		UNION ALL SELECT account, seq, kind, amount, balance, ref, created_at FROM lines WHERE account = $1 ORDER BY 2`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.LineRow
	for rows.Next() {
		var l ledger.LineRow
		if err := rows.Scan(&l.Account, &l.Seq, &l.Kind, &l.Amount, &l.Balance, &l.Ref, &l.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LineSums implements ledger.Tx. Each kind's total is exact: the
// database sums the high and the low 32 bits of the amounts apart (sums
// that cannot leave int64 below 2^31 lines of a kind), and Go adds them
// with checked arithmetic. A total outside int64 is a typed error, where
// SUM(amount) failed with the driver's overflow error (SQLite) or could
// not scan PostgreSQL's numeric sum, and a kind whose lines go up and
// down is summed right whatever the order of the rows.
func (t *Tx) LineSums(ctx context.Context) (map[string]int64, error) {
	return t.halfSums(ctx, `SELECT kind, COALESCE(SUM(amount >> 32), 0), COALESCE(SUM(amount & 4294967295), 0) FROM
		(SELECT kind, amount FROM lines UNION ALL SELECT kind, amount FROM lines_archive) l GROUP BY kind`, nil,
		func(k string, v *big.Int) error {
			return offpay.Errorf(offpay.ELIMIT, "the %s lines total %s minor units, beyond what the ledger sums (2^63-1)", k, v)
		})
}

// halfSums runs q, whose rows are a key and the sums of the high and the
// low 32 bits of amounts (LineSums), and joins each key's halves exactly;
// a total outside int64 is tooBig's error.
func (t *Tx) halfSums(ctx context.Context, q string, args []any, tooBig func(k string, v *big.Int) error) (map[string]int64, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var hi, lo int64
		if err := rows.Scan(&k, &hi, &lo); err != nil {
			return nil, err
		}
		v, over := joinHalves(hi, lo)
		if over != nil {
			return nil, tooBig(k, over)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// joinHalves returns hi<<32 + lo, or the total as a big.Int when it is
// outside int64.
func joinHalves(hi, lo int64) (int64, *big.Int) {
	v := new(big.Int).Lsh(big.NewInt(hi), 32)
	if v.Add(v, big.NewInt(lo)); !v.IsInt64() {
		return 0, v
	}
	return v.Int64(), nil
}

// Ref implements ledger.Tx.
func (t *Tx) Ref(ctx context.Context, ref string) (*ledger.RefRow, error) {
	r := &ledger.RefRow{Ref: ref}
	err := t.queryRow(ctx, `SELECT account, kind, amount FROM refs WHERE ref = $1`, ref).Scan(&r.Account, &r.Kind, &r.Amount)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return r, err
}

// InsertRef implements ledger.Tx.
func (t *Tx) InsertRef(ctx context.Context, r *ledger.RefRow) error {
	_, err := t.exec(ctx, `INSERT INTO refs (ref, account, kind, amount) VALUES ($1,$2,$3,$4)`, r.Ref, r.Account, r.Kind, r.Amount)
	return err
}
