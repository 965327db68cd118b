package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Entries implements ledger.Tx.
func (t *Tx) Entries(ctx context.Context, device protocol.KeyID, lo, hi uint64) ([]ledger.EntryRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT counter, hash, kind, data FROM entries WHERE device = $1 AND counter BETWEEN $2 AND $3 ORDER BY counter`,
		id(device), int64(lo), int64(hi))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.EntryRow
	for rows.Next() {
		e := ledger.EntryRow{Device: device}
		var c int64
		var h []byte
		if err := rows.Scan(&c, &h, &e.Kind, &e.Data); err != nil {
			return nil, err
		}
		e.Counter, e.Hash = uint64(c), hash(h)
		out = append(out, e)
	}
	return out, rows.Err()
}

// InsertEntries implements ledger.Tx.
func (t *Tx) InsertEntries(ctx context.Context, es []ledger.EntryRow) error {
	return t.insertMany(ctx, insertEntries, ``, 5, len(es), func(i int) []any {
		e := &es[i]
		return []any{id(e.Device), int64(e.Counter), e.Hash[:], int64(e.Kind), e.Data}
	})
}

const (
	paymentCols    = `payer, counter, pid, payee, amount, status, src_device, src_counter, created_at, ptime, resolved_at`
	insertPayments = `INSERT INTO payments (` + paymentCols + `)`
	paymentSel     = `payments.payer, payments.counter, pid, payee, amount, status, src_device, src_counter, created_at, ptime, resolved_at`
	insertEntries  = `INSERT INTO entries (device, counter, hash, kind, data)`
	paymentNCols   = 11
	insertLines    = `INSERT INTO lines (account, seq, kind, amount, balance, ref, created_at)`
)

func paymentArgs(p *ledger.PaymentRow) []any {
	return []any{id(p.Payer), int64(p.Counter), p.ID[:], id(p.Payee), p.Amount, int64(p.Status), id(p.SrcDevice), int64(p.SrcCounter), p.CreatedAt,
		int64(p.Time), p.Resolved}
}

func (t *Tx) payments(ctx context.Context, q string, args ...any) ([]ledger.PaymentRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+paymentSel+` FROM payments `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.PaymentRow
	for rows.Next() {
		var p ledger.PaymentRow
		var payer, pid, payee, src []byte
		var counter, status, srcCounter, ptime int64
		if err := rows.Scan(&payer, &counter, &pid, &payee, &p.Amount, &status, &src, &srcCounter, &p.CreatedAt, &ptime, &p.Resolved); err != nil {
			return nil, err
		}
		p.Payer, p.Counter, p.ID, p.Payee = keyID(payer), uint64(counter), hash(pid), keyID(payee)
		p.Status, p.SrcDevice, p.SrcCounter, p.Time = uint8(status), keyID(src), uint64(srcCounter), uint64(ptime)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Payments implements ledger.Tx. PostgreSQL joins against two arrays (one
// plan whatever the count); SQLite probes a row-value IN list.
func (t *Tx) Payments(ctx context.Context, keys []ledger.PayKey) (map[ledger.PayKey]*ledger.PaymentRow, error) {
	out := map[ledger.PayKey]*ledger.PaymentRow{}
	if len(keys) == 0 {
		return out, nil
	}
	if t.d == Postgres {
		payers, counters := make([][]byte, len(keys)), make([]int64, len(keys))
		for i, k := range keys {
			payers[i], counters[i] = id(k.Payer), int64(k.Counter)
		}
		ps, err := t.payments(ctx, `JOIN unnest($1::bytea[], $2::bigint[]) AS k(payer, counter)
			ON payments.payer = k.payer AND payments.counter = k.counter`, payers, counters)
		if err != nil {
			return nil, err
		}
		for i := range ps {
			out[ps[i].Key()] = &ps[i]
		}
		return out, nil
	}
	const per = 500
	for lo := 0; lo < len(keys); lo += per {
		chunk := keys[lo:min(lo+per, len(keys))]
		args := make([]any, 0, 2*len(chunk))
		for _, k := range chunk {
			args = append(args, id(k.Payer), int64(k.Counter))
		}
		ps, err := t.payments(ctx, `WHERE (payer, counter) IN (`+t.values(len(chunk), 2)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for i := range ps {
			out[ps[i].Key()] = &ps[i]
		}
	}
	return out, nil
}

// PaymentsOf implements ledger.Tx.
func (t *Tx) PaymentsOf(ctx context.Context, payer protocol.KeyID, lo, hi uint64) ([]ledger.PaymentRow, error) {
	return t.payments(ctx, `WHERE payer = $1 AND counter BETWEEN $2 AND $3 ORDER BY counter`, id(payer), int64(lo), int64(hi))
}

// InsertPayments implements ledger.Tx.
func (t *Tx) InsertPayments(ctx context.Context, ps []ledger.PaymentRow) error {
	return t.insertMany(ctx, insertPayments, ``, paymentNCols, len(ps), func(i int) []any { return paymentArgs(&ps[i]) })
}

// InsertConflict implements ledger.Tx.
func (t *Tx) InsertConflict(ctx context.Context, p *ledger.PaymentRow) (bool, error) {
	n, err := t.exec(ctx, `INSERT INTO conflicts (`+paymentCols+`) VALUES `+t.values(1, paymentNCols)+` ON CONFLICT (payer, counter, pid) DO NOTHING`, paymentArgs(p)...)
	return n == 1, err
}

// PendingTo implements ledger.Tx.
func (t *Tx) PendingTo(ctx context.Context, payee protocol.KeyID) ([]ledger.PaymentRow, error) {
	ps, err := t.payments(ctx, `WHERE payee = $1 AND status = $2`, id(payee), int64(protocol.StatusPending))
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT payer, counter, pid, amount, ptime FROM conflicts WHERE payee = $1 AND status = $2`, id(payee), int64(protocol.StatusPending))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p := ledger.PaymentRow{Payee: payee, Status: protocol.StatusPending}
		var payer, pid []byte
		var counter, ptime int64
		if err := rows.Scan(&payer, &counter, &pid, &p.Amount, &ptime); err != nil {
			return nil, err
		}
		p.Payer, p.Counter, p.ID, p.Time = keyID(payer), uint64(counter), hash(pid), uint64(ptime)
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// SetPaymentStatus implements ledger.Tx.
func (t *Tx) SetPaymentStatus(ctx context.Context, k ledger.PayKey, pid protocol.Hash, status uint8, at int64) error {
	for _, table := range []string{"payments", "conflicts"} {
		if _, err := t.exec(ctx, `UPDATE `+table+` SET status = $4, resolved_at = $5 WHERE payer = $1 AND counter = $2 AND pid = $3`,
			id(k.Payer), int64(k.Counter), pid[:], int64(status), at); err != nil {
			return err
		}
	}
	return nil
}

// ResolvePayments implements ledger.Tx: one UPDATE per chunk of the main
// table.
func (t *Tx) ResolvePayments(ctx context.Context, ps []ledger.PaymentRow) error {
	const per = 500
	for lo := 0; lo < len(ps); lo += per {
		chunk := ps[lo:min(lo+per, len(ps))]
		var vals strings.Builder
		args := make([]any, 0, 5*len(chunk))
		for i := range chunk {
			p := &chunk[i]
			if i > 0 {
				vals.WriteByte(',')
			}
			if t.d == SQLite {
				vals.WriteString("(?,?,?,?,?)")
			} else {
				n := len(args)
				fmt.Fprintf(&vals, "($%d::bytea,$%d::bigint,$%d::bytea,$%d::bigint,$%d::bigint)", n+1, n+2, n+3, n+4, n+5)
			}
			args = append(args, id(p.Payer), int64(p.Counter), p.ID[:], int64(p.Status), p.Resolved)
		}
		q := `UPDATE payments SET status = v.column4, resolved_at = v.column5 FROM (VALUES ` + vals.String() +
			`) AS v WHERE payments.payer = v.column1 AND payments.counter = v.column2 AND payments.pid = v.column3`
		if _, err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// PendingOf implements ledger.Tx.
func (t *Tx) PendingOf(ctx context.Context, payer protocol.KeyID, below uint64) ([]ledger.PaymentRow, error) {
	return t.payments(ctx, `WHERE payer = $1 AND status = $2 AND counter < $3 ORDER BY counter`, id(payer), int64(protocol.StatusPending),
		int64(min(below, 1<<63-1)))
}

// ResolvedOf implements ledger.Tx.
func (t *Tx) ResolvedOf(ctx context.Context, payer protocol.KeyID, since int64, skipLo, skipHi uint64) ([]ledger.PaymentRow, error) {
	if skipLo > skipHi {
		return t.payments(ctx, `WHERE payer = $1 AND resolved_at > 0 AND resolved_at >= $2 ORDER BY counter`, id(payer), since)
	}
	return t.payments(ctx, `WHERE payer = $1 AND resolved_at > 0 AND resolved_at >= $2 AND (counter < $3 OR counter > $4) ORDER BY counter`,
		id(payer), since, int64(min(skipLo, 1<<63-1)), int64(min(skipHi, 1<<63-1)))
}

// PaymentTotals implements ledger.Tx.
func (t *Tx) PaymentTotals(ctx context.Context) (settled, pending int64, err error) {
	for _, table := range []string{"payments", "conflicts"} {
		var c, p int64
		err = t.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN status = $1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = $2 THEN amount ELSE 0 END), 0) FROM `+table,
			int64(protocol.StatusSettled), int64(protocol.StatusPending)).Scan(&c, &p)
		if err != nil {
			return 0, 0, err
		}
		settled, pending = settled+c, pending+p
	}
	return settled, pending, nil
}

// InsertProof implements ledger.Tx.
func (t *Tx) InsertProof(ctx context.Context, p *ledger.ProofRow) (bool, error) {
	n, err := t.exec(ctx, `INSERT INTO proofs (device, counter, entry_a, entry_b, found_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (device, counter) DO NOTHING`,
		id(p.Device), int64(p.Counter), p.EntryA, p.EntryB, p.FoundAt)
	return n == 1, err
}

// Proofs implements ledger.Tx.
func (t *Tx) Proofs(ctx context.Context) ([]ledger.ProofRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT device, counter, entry_a, entry_b, found_at FROM proofs ORDER BY device, counter`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.ProofRow
	for rows.Next() {
		var p ledger.ProofRow
		var dev []byte
		var c int64
		if err := rows.Scan(&dev, &c, &p.EntryA, &p.EntryB, &p.FoundAt); err != nil {
			return nil, err
		}
		p.Device, p.Counter = keyID(dev), uint64(c)
		out = append(out, p)
	}
	return out, rows.Err()
}

// InsertOutbox implements ledger.Tx.
func (t *Tx) InsertOutbox(ctx context.Context, rs []ledger.OutboxRow) error {
	return t.insertMany(ctx, `INSERT INTO outbox (id, kind, idem_key, payload, attempts, next_at, lease_until, delivered_at, last_error, created_at)`,
		` ON CONFLICT (idem_key) DO NOTHING`, 10, len(rs), func(i int) []any {
			r := &rs[i]
			return []any{r.ID, r.Kind, r.Key, r.Payload, r.Attempts, r.NextAt, int64(0), int64(0), "", r.CreatedAt}
		})
}

// ClaimOutbox implements ledger.Tx.
func (t *Tx) ClaimOutbox(ctx context.Context, now, leaseUntil int64, limit int) ([]ledger.OutboxRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, kind, idem_key, payload, attempts, next_at, created_at FROM outbox
		WHERE delivered_at = 0 AND next_at <= $1 AND lease_until <= $1 ORDER BY created_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	var out []ledger.OutboxRow
	for rows.Next() {
		var r ledger.OutboxRow
		if err := rows.Scan(&r.ID, &r.Kind, &r.Key, &r.Payload, &r.Attempts, &r.NextAt, &r.CreatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Attempts++
		if _, err := t.exec(ctx, `UPDATE outbox SET lease_until = $2, attempts = attempts + 1 WHERE id = $1`, out[i].ID, leaseUntil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MarkDelivered implements ledger.Tx.
func (t *Tx) MarkDelivered(ctx context.Context, rid, now int64) (bool, error) {
	n, err := t.exec(ctx, `UPDATE outbox SET delivered_at = $2, lease_until = 0 WHERE id = $1 AND delivered_at = 0`, rid, now)
	if err == nil && n == 0 {
		var x int64
		err = t.tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE id = $1`, rid).Scan(&x)
		if err == sql.ErrNoRows {
			return false, nil
		}
		return err == nil, err
	}
	return n == 1, err
}

// MarkFailed implements ledger.Tx.
func (t *Tx) MarkFailed(ctx context.Context, rid, next int64, lastErr string) (bool, error) {
	n, err := t.exec(ctx, `UPDATE outbox SET next_at = $2, last_error = $3, lease_until = 0 WHERE id = $1 AND delivered_at = 0`, rid, next, lastErr)
	if err == nil && n == 0 {
		var x int64
		err = t.tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE id = $1`, rid).Scan(&x)
		if err == sql.ErrNoRows {
			return false, nil
		}
		return err == nil, err
	}
	return n == 1, err
}
