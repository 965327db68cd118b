package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/offpay/offpay/ledger"
)

// The bank outbox (ledger/outbox.go): rows in streams with sequence
// numbers, leased by token while a deliverer sends them.

const outboxCols = `id, kind, idem_key, stream, seq, payload, attempts, streak, next_at, lease_until, lease_token, since, delivered_at, dead_at, last_error, created_at`

const outboxNCols = 16

// pendingSQL is the condition of a pending row.
const pendingSQL = `delivered_at = 0 AND dead_at = 0`

func outboxArgs(r *ledger.OutboxRow) []any {
	return []any{r.ID, r.Kind, r.Key, r.Stream, r.Seq, r.Payload, r.Attempts, r.Streak, r.NextAt, r.LeaseUntil, r.LeaseToken,
		r.Since, r.DeliveredAt, r.DeadAt, r.LastError, r.CreatedAt}
}

func scanOutbox(rows *sql.Rows) (ledger.OutboxRow, error) {
	var r ledger.OutboxRow
	err := rows.Scan(&r.ID, &r.Kind, &r.Key, &r.Stream, &r.Seq, &r.Payload, &r.Attempts, &r.Streak, &r.NextAt, &r.LeaseUntil,
		&r.LeaseToken, &r.Since, &r.DeliveredAt, &r.DeadAt, &r.LastError, &r.CreatedAt)
	return r, err
}

func (t *Tx) queryOutbox(ctx context.Context, q string, args ...any) ([]ledger.OutboxRow, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.OutboxRow
	for rows.Next() {
		r, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		if r.Payload, err = unpackPayload(r.Payload); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// stringsIn maps each value of column col (TEXT) of table found in vals
// to the integer expression extra of its row.
func (t *Tx) stringsIn(ctx context.Context, table, col, extra string, vals []string) (map[string]int64, error) {
	out := map[string]int64{}
	const per = 500
	for lo := 0; lo < len(vals); lo += per {
		chunk := vals[lo:min(lo+per, len(vals))]
		args := make([]any, len(chunk))
		for i, v := range chunk {
			args[i] = v
		}
		in, args := t.inList(args, 1)
		rows, err := t.query(ctx, `SELECT `+col+`, `+extra+` FROM `+table+` WHERE `+col+` IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k string
			var v int64
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InsertOutbox implements ledger.Tx.
func (t *Tx) InsertOutbox(ctx context.Context, rs []ledger.OutboxRow) error {
	if len(rs) == 0 {
		return nil
	}
	keys := make([]string, len(rs))
	for i := range rs {
		keys[i] = rs[i].Key
	}
	known, err := t.knownKeys(ctx, keys)
	if err != nil {
		return err
	}
	fresh := make([]ledger.OutboxRow, 0, len(rs))
	var streams []string
	seen := map[string]bool{}
	for _, r := range rs {
		if _, dup := known[r.Key]; dup || seen[r.Key] {
			continue
		}
		seen[r.Key] = true
		fresh = append(fresh, r)
		if r.Stream != "" && !seen["\x00"+r.Stream] {
			seen["\x00"+r.Stream] = true
			streams = append(streams, r.Stream)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	if len(streams) > 0 {
		// Each new row takes its stream's next seq, and a creation time
		// after the stream's last (the clock may repeat or step back).
		seqs, err := t.stringsIn(ctx, "outbox_streams", "stream", "seq", streams)
		if err != nil {
			return err
		}
		last, err := t.stringsIn(ctx, "outbox_streams", "stream", "last_at", streams)
		if err != nil {
			return err
		}
		for i := range fresh {
			if s := fresh[i].Stream; s != "" {
				seqs[s]++
				fresh[i].Seq = seqs[s]
				if fresh[i].CreatedAt <= last[s] {
					fresh[i].CreatedAt = last[s] + 1
				}
				last[s] = fresh[i].CreatedAt
			}
		}
		if err := t.insertMany(ctx, `INSERT INTO outbox_streams (stream, seq, last_at)`,
			` ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, last_at = excluded.last_at`,
			3, len(streams), func(i int) []any { return []any{streams[i], seqs[streams[i]], last[streams[i]]} }); err != nil {
			return err
		}
	}
	if t.d == SQLite {
		for i := range fresh { // fresh holds copies: the caller's rows keep their payloads
			fresh[i].Payload = packPayload(fresh[i].Payload)
		}
	}
	return t.insertMany(ctx, `INSERT INTO outbox (`+outboxCols+`)`, ``, outboxNCols, len(fresh), func(i int) []any {
		return outboxArgs(&fresh[i])
	})
}

// ClaimOutbox implements ledger.Tx.
func (t *Tx) ClaimOutbox(ctx context.Context, now, leaseUntil, token int64, limit int) ([]ledger.OutboxRow, error) {
	out, err := t.queryOutbox(ctx, `SELECT `+outboxCols+` FROM outbox o
		WHERE o.delivered_at = 0 AND o.dead_at = 0 AND o.next_at <= $1 AND o.lease_until <= $1
		AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.stream = o.stream AND p.seq < o.seq AND p.delivered_at = 0 AND p.dead_at = 0)
		ORDER BY o.created_at, o.id LIMIT $2`, now, limit)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	args := []any{leaseUntil, token}
	for i := range out {
		out[i].Attempts++
		out[i].Streak++
		out[i].LeaseUntil, out[i].LeaseToken = leaseUntil, token
		args = append(args, out[i].ID)
	}
	_, err = t.exec(ctx, `UPDATE outbox SET lease_until = $1, lease_token = $2, attempts = attempts + 1, streak = streak + 1
		WHERE id IN `+t.numbered(3, len(out)), args...)
	return out, err
}

// numbered returns "($from,...,$from+n-1)".
func (t *Tx) numbered(from, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	b.WriteByte(')')
	return b.String()
}

// RenewOutbox implements ledger.Tx.
func (t *Tx) RenewOutbox(ctx context.Context, leases map[int64]int64, leaseUntil int64) ([]int64, error) {
	var out []int64
	for id, token := range leases {
		n, err := t.exec(ctx, `UPDATE outbox SET lease_until = $1 WHERE id = $2 AND lease_token = $3 AND `+pendingSQL, leaseUntil, id, token)
		if err != nil {
			return nil, err
		}
		if n == 1 {
			out = append(out, id)
		}
	}
	return out, nil
}

// exists reports whether the outbox has row rid.
func (t *Tx) exists(ctx context.Context, rid int64) (bool, error) {
	var x int64
	err := t.queryRow(ctx, `SELECT id FROM outbox WHERE id = $1`, rid).Scan(&x)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

// MarkDelivered implements ledger.Tx.
func (t *Tx) MarkDelivered(ctx context.Context, rid, now int64) (bool, error) {
	n, err := t.exec(ctx, `UPDATE outbox SET delivered_at = $2, dead_at = 0, lease_until = 0, lease_token = 0, streak = 0
		WHERE id = $1 AND delivered_at = 0`, rid, now)
	if err == nil && n == 0 {
		return t.exists(ctx, rid)
	}
	return n == 1, err
}

// MarkFailed implements ledger.Tx.
func (t *Tx) MarkFailed(ctx context.Context, rid, token, next, dead int64, lastErr string) (bool, error) {
	n, err := t.exec(ctx, `UPDATE outbox SET next_at = $3, last_error = $4, dead_at = $5, lease_until = 0, lease_token = 0
		WHERE id = $1 AND lease_token = $2 AND `+pendingSQL, rid, token, next, lastErr, dead)
	if err == nil && n == 0 {
		return t.exists(ctx, rid)
	}
	return n == 1, err
}

// RetryOutbox implements ledger.Tx.
func (t *Tx) RetryOutbox(ctx context.Context, now int64) (int64, error) {
	return t.exec(ctx, `UPDATE outbox SET next_at = $1, streak = 0 WHERE `+pendingSQL+` AND next_at > $1`, now)
}

// where returns the WHERE clause of f (without the cursor) and its
// arguments, numbered from $1.
func outboxWhere(f ledger.OutboxFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	switch f.State {
	case ledger.OutboxPending:
		conds = append(conds, pendingSQL)
	case ledger.OutboxDelivered:
		conds = append(conds, "delivered_at > 0")
	case ledger.OutboxDead:
		conds = append(conds, "dead_at > 0")
	}
	if f.Stream != "" {
		add("stream = ?", f.Stream)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Key != "" {
		add("idem_key = ?", f.Key)
	}
	if f.From != 0 {
		add("created_at >= ?", f.From)
	}
	if f.To != 0 {
		add("created_at < ?", f.To)
	}
	if len(conds) == 0 {
		return "1 = 1", args
	}
	return strings.Join(conds, " AND "), args
}

// OutboxRows implements ledger.Tx.
func (t *Tx) OutboxRows(ctx context.Context, f ledger.OutboxFilter, limit int) ([]ledger.OutboxRow, error) {
	where, args := outboxWhere(f)
	if f.AfterCreated != 0 || f.AfterID != 0 {
		n := len(args)
		where += " AND (created_at > $" + strconv.Itoa(n+1) + " OR (created_at = $" + strconv.Itoa(n+1) + " AND id > $" + strconv.Itoa(n+2) + "))"
		args = append(args, f.AfterCreated, f.AfterID)
	}
	args = append(args, limit)
	// Archived notifications (archive.go) are listed too, in their place.
	return t.queryOutbox(ctx, `SELECT `+outboxCols+` FROM outbox WHERE `+where+` UNION ALL SELECT `+outboxCols+` FROM outbox_archive WHERE `+where+
		` ORDER BY created_at, id LIMIT $`+strconv.Itoa(len(args)), args...)
}

// ResendOutbox implements ledger.Tx. A row being sent (leased) is left to
// its deliverer.
func (t *Tx) ResendOutbox(ctx context.Context, f ledger.OutboxFilter, now int64) (int64, error) {
	where, args := outboxWhere(f)
	args = append(args, now)
	p := "$" + strconv.Itoa(len(args))
	return t.exec(ctx, `UPDATE outbox SET delivered_at = 0, dead_at = 0, next_at = `+p+`, since = `+p+`, streak = 0, last_error = ''
		WHERE `+where+` AND lease_until <= `+p, args...)
}

// OutboxStats implements ledger.Tx.
func (t *Tx) OutboxStats(ctx context.Context) (*ledger.OutboxStatsRow, error) {
	s := &ledger.OutboxStatsRow{}
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE `+pendingSQL).Scan(&s.Pending); err != nil {
		return nil, err
	}
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE dead_at > 0`).Scan(&s.Dead); err != nil {
		return nil, err
	}
	rows, err := t.queryOutbox(ctx, `SELECT `+outboxCols+` FROM outbox WHERE `+pendingSQL+` ORDER BY created_at, id LIMIT 1`)
	if err != nil {
		return nil, err
	}
	if len(rows) == 1 {
		s.Oldest = &rows[0]
	}
	return s, nil
}
