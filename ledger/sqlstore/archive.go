package sqlstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Archiving (ledger/archive.go): settled history older than a cut moves,
// in batches, from payments, entries, lines and outbox to the tables of
// the same name with ArchiveSuffix (migration 009). Nothing else moves.
// The keyed reads of payments (Payments, PaymentsOf, ResolvedOf), entries
// (Entries) and lines (Lines), the sums (PaymentTotals, LineSums) and the
// outbox's idempotency keys (InsertOutbox) read the archive too, so that
// what the ledger decides does not depend on where a row is; the scans
// that do not (pending payments, the outbox's pending and dead rows) look
// only for rows that never move.

// archiveTable names a hot table's archive.
func archiveTable(table string) string { return table + ArchiveSuffix }

// ArchiveStep implements ledger.Tx.
func (t *Tx) ArchiveStep(ctx context.Context, table string, before int64, cursor []byte, limit int) (int, []byte, error) {
	switch table {
	case ledger.ArchivePayments:
		return t.archiveKeyed(ctx, table, "payer", "counter", paymentCols, cursor, limit, func(sel string) string {
			// Settled when it left pending (resolved_at, unix s), or when
			// recorded if it never was (a payee's entry recorded it).
			return `SELECT p.payer, p.counter, p.status = ` + fmt.Sprint(protocol.StatusSettled) + ` AND (p.resolved_at > 0 AND p.resolved_at < ` +
				fmt.Sprint(before/1e9) + ` OR p.resolved_at = 0 AND p.created_at < ` + fmt.Sprint(before) +
				`) AND NOT EXISTS (SELECT 1 FROM open_sales o WHERE o.payer = p.payer AND o.counter = p.counter AND o.pid = p.pid) FROM payments p ` + sel
		}, nil)
	case ledger.ArchiveEntries:
		// An entry's time is inside its signed bytes; only entries the
		// device's own log has been recorded up to (acked) move.
		return t.archiveKeyed(ctx, table, "device", "counter", `device, counter, hash, kind, data`, cursor, limit, func(sel string) string {
			return `SELECT p.device, p.counter, p.counter <= d.acked, p.data FROM entries p JOIN devices d ON d.id = p.device ` + sel
		}, func(data []byte) bool {
			var e protocol.LogEntry
			return protocol.Unmarshal(data, &e) == nil && e.Time < uint64(before/1e9)
		})
	case ledger.ArchiveLines:
		return t.archiveLines(ctx, before, cursor, limit)
	case ledger.ArchiveOutbox:
		return t.archiveOutbox(ctx, before, cursor, limit)
	}
	return 0, nil, fmt.Errorf("sqlstore: no archive of table %q", table)
}

// archiveKeyed moves, among the next limit rows of table after cursor in
// (k1, k2) order (k1 bytes, k2 an integer), those that query's third
// column says may move (and, if old is set, whose fourth column it
// accepts). query(sel) is the SELECT with sel, the cursor's WHERE, ORDER
// BY and LIMIT, appended.
func (t *Tx) archiveKeyed(ctx context.Context, table, k1, k2, cols string, cursor []byte, limit int, query func(sel string) string,
	old func([]byte) bool) (int, []byte, error) {
	after1, after2 := []byte{}, int64(-1)
	if len(cursor) >= 8 {
		after2, after1 = int64(binary.BigEndian.Uint64(cursor)), cursor[8:]
	}
	// A row-value comparison: both databases walk the primary key from it.
	sel := fmt.Sprintf(`WHERE (p.%s, p.%s) > ($1, $2) ORDER BY p.%s, p.%s LIMIT $3`, k1, k2, k1, k2)
	rows, err := t.query(ctx, query(sel), after1, after2, limit)
	if err != nil {
		return 0, nil, err
	}
	var keys []any
	var last1 []byte
	var last2 int64
	n := 0
	for rows.Next() {
		var a []byte
		var b int64
		var ok bool
		var data []byte
		dest := []any{&a, &b, &ok}
		if old != nil {
			dest = append(dest, &data)
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return 0, nil, err
		}
		n++
		last1, last2 = a, b
		if ok && (old == nil || old(data)) {
			keys = append(keys, a, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	moved, err := t.moveKeys(ctx, table, cols, k1+", "+k2, keys, 2)
	if err != nil || n < limit {
		return moved, nil, err
	}
	next := binary.BigEndian.AppendUint64(nil, uint64(last2))
	return moved, append(next, last1...), nil
}

// moveKeys copies the rows of table whose key columns (keyCols, k of
// them) are among keys into its archive, skipping any already there (a
// step run again), and deletes them from table, in chunks.
func (t *Tx) moveKeys(ctx context.Context, table, cols, keyCols string, keys []any, k int) (int, error) {
	moved := 0
	const per = 256
	for lo := 0; lo < len(keys); lo += per * k {
		chunk := append([]any(nil), keys[lo:min(lo+per*k, len(keys))]...)
		in, args := t.inList(chunk, k)
		where := `(` + keyCols + `) IN ` + in
		if k == 1 {
			where = keyCols + ` IN ` + in
		}
		if t.d == Postgres {
			// Arrays, one per key column: PostgreSQL plans a long IN list
			// of row values poorly (a scan per transaction, measured).
			where, args = pgKeysIn(keyCols, chunk, k)
		}
		if _, err := t.exec(ctx, `INSERT INTO `+archiveTable(table)+` (`+cols+`) SELECT `+cols+` FROM `+table+` WHERE `+where+
			` ON CONFLICT DO NOTHING`, args...); err != nil {
			return moved, err
		}
		n, err := t.exec(ctx, `DELETE FROM `+table+` WHERE `+where, args...)
		if err != nil {
			return moved, err
		}
		moved += int(n)
	}
	return moved, nil
}

// archiveLines moves the statement lines written before before.
func (t *Tx) archiveLines(ctx context.Context, before int64, cursor []byte, limit int) (int, []byte, error) {
	after1, after2 := "", int64(-1)
	if len(cursor) >= 8 {
		after2, after1 = int64(binary.BigEndian.Uint64(cursor)), string(cursor[8:])
	}
	q := `SELECT account, seq, created_at FROM lines WHERE (account, seq) > ($1, $2) ORDER BY account, seq LIMIT $3`
	rows, err := t.query(ctx, q, after1, after2, limit)
	if err != nil {
		return 0, nil, err
	}
	var keys []any
	var last1 string
	var last2 int64
	n := 0
	for rows.Next() {
		var a string
		var b, at int64
		if err := rows.Scan(&a, &b, &at); err != nil {
			rows.Close()
			return 0, nil, err
		}
		n++
		last1, last2 = a, b
		if at < before {
			keys = append(keys, a, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	moved, err := t.moveKeys(ctx, "lines", `account, seq, kind, amount, balance, ref, created_at`, "account, seq", keys, 2)
	if err != nil || n < limit {
		return moved, nil, err
	}
	return moved, append(binary.BigEndian.AppendUint64(nil, uint64(last2)), last1...), nil
}

// archiveOutbox moves the notifications delivered before before (a dead
// letter stays: it still awaits the operator).
func (t *Tx) archiveOutbox(ctx context.Context, before int64, cursor []byte, limit int) (int, []byte, error) {
	after := int64(-1 << 63)
	if len(cursor) == 8 {
		after = int64(binary.BigEndian.Uint64(cursor))
	}
	rows, err := t.query(ctx, `SELECT id, delivered_at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return 0, nil, err
	}
	var keys []any
	var last int64
	n := 0
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return 0, nil, err
		}
		n++
		last = id
		if at > 0 && at < before {
			keys = append(keys, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	moved, err := t.moveKeys(ctx, "outbox", outboxCols, "id", keys, 1)
	if err != nil || n < limit {
		return moved, nil, err
	}
	return moved, binary.BigEndian.AppendUint64(nil, uint64(last)), nil
}

// ArchivedCounts implements ledger.Tx.
func (t *Tx) ArchivedCounts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, table := range []string{ledger.ArchivePayments, ledger.ArchiveEntries, ledger.ArchiveLines, ledger.ArchiveOutbox} {
		var n int64
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM `+archiveTable(table)).Scan(&n); err != nil {
			return nil, err
		}
		out[table] = n
	}
	return out, nil
}

// knownKeys returns the idempotency keys among keys that a notification
// holds, archived or not (archive.go): a notification is written once.
func (t *Tx) knownKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	const per = 500
	for lo := 0; lo < len(keys); lo += per {
		chunk := keys[lo:min(lo+per, len(keys))]
		args := make([]any, len(chunk))
		for i, v := range chunk {
			args[i] = v
		}
		in, args := t.inList(args, 1)
		if t.d == SQLite {
			args = append(args, args...) // "?": once per table
		}
		rows, err := t.query(ctx, `SELECT idem_key FROM outbox WHERE idem_key IN `+in+` UNION ALL SELECT idem_key FROM outbox_archive WHERE idem_key IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pgKeysIn is a WHERE clause matching keyCols (k columns) against the
// tuples of keys, as k arrays unnested.
func pgKeysIn(keyCols string, keys []any, k int) (string, []any) {
	args := make([]any, k)
	types := make([]string, k)
	for j := 0; j < k; j++ {
		switch keys[j].(type) {
		case []byte:
			col := make([][]byte, 0, len(keys)/k)
			for i := j; i < len(keys); i += k {
				col = append(col, keys[i].([]byte))
			}
			args[j], types[j] = col, "bytea[]"
		case string:
			col := make([]string, 0, len(keys)/k)
			for i := j; i < len(keys); i += k {
				col = append(col, keys[i].(string))
			}
			args[j], types[j] = col, "text[]"
		default:
			col := make([]int64, 0, len(keys)/k)
			for i := j; i < len(keys); i += k {
				col = append(col, keys[i].(int64))
			}
			args[j], types[j] = col, "bigint[]"
		}
	}
	var b strings.Builder
	for j := range k {
		if j > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s", j+1, types[j])
	}
	return `(` + keyCols + `) IN (SELECT * FROM unnest(` + b.String() + `))`, args
}
