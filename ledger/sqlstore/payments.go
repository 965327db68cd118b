package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Entries implements ledger.Tx.
func (t *Tx) Entries(ctx context.Context, device protocol.KeyID, lo, hi uint64) ([]ledger.EntryRow, error) {
	rows, err := t.query(ctx, `SELECT counter, hash, kind, data FROM entries WHERE device = $1 AND counter BETWEEN $2 AND $3
		UNION ALL SELECT counter, hash, kind, data FROM entries_archive WHERE device = $1 AND counter BETWEEN $2 AND $3 ORDER BY 1`,
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
	paymentCols    = `payer, counter, pid, payee, amount, status, src_device, src_counter, created_at, ptime, resolved_at, sale`
	insertPayments = `INSERT INTO payments (` + paymentCols + `)`
	paymentSel     = `payments.payer, payments.counter, pid, payee, amount, status, src_device, src_counter, created_at, ptime, resolved_at, sale`
	insertEntries  = `INSERT INTO entries (device, counter, hash, kind, data)`
	insertReceipts = `INSERT INTO receipts (` + receiptCols + `)`
	paymentNCols   = 12
	insertLines    = `INSERT INTO lines (account, seq, kind, amount, balance, ref, created_at)`
)

func paymentArgs(p *ledger.PaymentRow) []any {
	return []any{id(p.Payer), int64(p.Counter), p.ID[:], id(p.Payee), p.Amount, int64(p.Status), id(p.SrcDevice), int64(p.SrcCounter), p.CreatedAt,
		int64(p.Time), p.Resolved, saleArg(p.Sale)}
}

// saleArg is a refund's sale, NULL for a payment.
func saleArg(h protocol.Hash) any {
	if h == (protocol.Hash{}) {
		return nil
	}
	return h[:]
}

func (t *Tx) payments(ctx context.Context, q string, args ...any) ([]ledger.PaymentRow, error) {
	return t.paymentsQuery(ctx, `SELECT `+paymentSel+` FROM payments `+q, args...)
}

// paymentsBoth is payments from the table and its archive (archive.go) in
// one statement: cond (a JOIN or a WHERE) selects in each, order sorts
// the whole. With SQLite's "?" parameters the caller gives the arguments
// twice, once for each table.
func (t *Tx) paymentsBoth(ctx context.Context, cond, order string, args ...any) ([]ledger.PaymentRow, error) {
	return t.paymentsQuery(ctx, `SELECT `+paymentSel+` FROM payments `+cond+
		` UNION ALL SELECT `+paymentSel+` FROM payments_archive payments `+cond+order, args...)
}

func (t *Tx) paymentsQuery(ctx context.Context, q string, args ...any) ([]ledger.PaymentRow, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.PaymentRow
	for rows.Next() {
		var p ledger.PaymentRow
		var payer, pid, payee, src, sale []byte
		var counter, status, srcCounter, ptime int64
		if err := rows.Scan(&payer, &counter, &pid, &payee, &p.Amount, &status, &src, &srcCounter, &p.CreatedAt, &ptime, &p.Resolved, &sale); err != nil {
			return nil, err
		}
		p.Payer, p.Counter, p.ID, p.Payee, p.Sale = keyID(payer), uint64(counter), hash(pid), keyID(payee), hash(sale)
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
		ps, err := t.paymentsBoth(ctx, `JOIN unnest($1::bytea[], $2::bigint[]) AS k(payer, counter)
			ON payments.payer = k.payer AND payments.counter = k.counter`, ``, payers, counters)
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
		in, args := t.inList(args, 2)
		ps, err := t.paymentsBoth(ctx, `WHERE (payer, counter) IN `+in, ``, append(args, args...)...) // "?": once per table
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
	return t.paymentsBoth(ctx, `WHERE payer = $1 AND counter BETWEEN $2 AND $3`, ` ORDER BY counter`, id(payer), int64(lo), int64(hi))
}

// InsertPayments implements ledger.Tx.
func (t *Tx) InsertPayments(ctx context.Context, ps []ledger.PaymentRow) error {
	if ok, err := t.holdPayments(ctx, ps); ok {
		return err
	}
	return t.insertPayments(ctx, ps)
}

func (t *Tx) insertPayments(ctx context.Context, ps []ledger.PaymentRow) error {
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
	rows, err := t.query(ctx, `SELECT payer, counter, pid, amount, ptime, sale FROM conflicts WHERE payee = $1 AND status = $2`, id(payee), int64(protocol.StatusPending))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p := ledger.PaymentRow{Payee: payee, Status: protocol.StatusPending}
		var payer, pid, sale []byte
		var counter, ptime int64
		if err := rows.Scan(&payer, &counter, &pid, &p.Amount, &ptime, &sale); err != nil {
			return nil, err
		}
		p.Payer, p.Counter, p.ID, p.Time, p.Sale = keyID(payer), uint64(counter), hash(pid), uint64(ptime), hash(sale)
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// PendingExpirable implements ledger.Tx.
func (t *Tx) PendingExpirable(ctx context.Context, before, now int64, limit int) ([]ledger.PaymentRow, error) {
	var out []ledger.PaymentRow
	for _, table := range []string{"payments", "conflicts"} {
		rows, err := t.query(ctx, `SELECT p.payer, p.counter, p.pid, p.payee, p.amount, p.ptime, p.sale FROM `+table+` p
			JOIN devices d ON d.id = p.payee
			WHERE p.status = $1 AND p.ptime <= $2 AND (d.revoked OR (d.not_after > 0 AND d.not_after <= $3))
			ORDER BY p.payer, p.counter LIMIT $4`, int64(protocol.StatusPending), before, now, limit)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			p := ledger.PaymentRow{Status: protocol.StatusPending}
			var payer, pid, payee, sale []byte
			var counter, ptime int64
			if err := rows.Scan(&payer, &counter, &pid, &payee, &p.Amount, &ptime, &sale); err != nil {
				rows.Close()
				return nil, err
			}
			p.Payer, p.Counter, p.ID, p.Payee, p.Time, p.Sale = keyID(payer), uint64(counter), hash(pid), keyID(payee), uint64(ptime), hash(sale)
			out = append(out, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const receiptCols = `payee, counter, pid, src_device, src_counter`

func (t *Tx) receipts(ctx context.Context, q string, args ...any) ([]ledger.ReceiptRow, error) {
	rows, err := t.query(ctx, `SELECT `+receiptCols+` FROM receipts `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.ReceiptRow
	for rows.Next() {
		var r ledger.ReceiptRow
		var payee, pid, src []byte
		var c, sc int64
		if err := rows.Scan(&payee, &c, &pid, &src, &sc); err != nil {
			return nil, err
		}
		r.Payee, r.Counter, r.PID, r.SrcDevice, r.SrcCounter = keyID(payee), uint64(c), hash(pid), keyID(src), uint64(sc)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReceiptsOf implements ledger.Tx.
func (t *Tx) ReceiptsOf(ctx context.Context, payee protocol.KeyID, lo, hi uint64) ([]ledger.ReceiptRow, error) {
	return t.receipts(ctx, `WHERE payee = $1 AND counter BETWEEN $2 AND $3 ORDER BY counter`, id(payee),
		int64(min(lo, 1<<63-1)), int64(min(hi, 1<<63-1)))
}

// Receipts implements ledger.Tx.
func (t *Tx) Receipts(ctx context.Context, keys []ledger.PayKey) (map[ledger.PayKey]*ledger.ReceiptRow, error) {
	out := map[ledger.PayKey]*ledger.ReceiptRow{}
	const per = 500
	for lo := 0; lo < len(keys); lo += per {
		chunk := keys[lo:min(lo+per, len(keys))]
		args := make([]any, 0, 2*len(chunk))
		for _, k := range chunk {
			args = append(args, id(k.Payer), int64(min(k.Counter, 1<<63-1)))
		}
		in, args := t.inList(args, 2)
		rs, err := t.receipts(ctx, `WHERE (payee, counter) IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for i := range rs {
			out[rs[i].Key()] = &rs[i]
		}
	}
	return out, nil
}

// InsertReceipts implements ledger.Tx.
func (t *Tx) InsertReceipts(ctx context.Context, rs []ledger.ReceiptRow) error {
	return t.insertMany(ctx, insertReceipts, ``, 5, len(rs), func(i int) []any {
		r := &rs[i]
		return []any{id(r.Payee), int64(min(r.Counter, 1<<63-1)), r.PID[:], id(r.SrcDevice), int64(r.SrcCounter)}
	})
}

// SetPaymentStatus implements ledger.Tx.
func (t *Tx) SetPaymentStatus(ctx context.Context, k ledger.PayKey, pid protocol.Hash, status uint8, at int64) error {
	// Only pending payments change status: none is archived (archive.go).
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
	if t.holdResolutions(ps) {
		return nil
	}
	return t.resolvePayments(ctx, ps)
}

func (t *Tx) resolvePayments(ctx context.Context, ps []ledger.PaymentRow) error {
	for lo, hi := range t.pieces(len(ps), 500) {
		chunk := ps[lo:hi]
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
		return t.paymentsBoth(ctx, `WHERE payer = $1 AND resolved_at > 0 AND resolved_at >= $2`, ` ORDER BY counter`, id(payer), since)
	}
	return t.paymentsBoth(ctx, `WHERE payer = $1 AND resolved_at > 0 AND resolved_at >= $2 AND (counter < $3 OR counter > $4)`, ` ORDER BY counter`,
		id(payer), since, int64(min(skipLo, 1<<63-1)), int64(min(skipHi, 1<<63-1)))
}

// PaymentTotals implements ledger.Tx.
func (t *Tx) PaymentTotals(ctx context.Context) (settled, pending int64, err error) {
	for _, table := range []string{"payments", "conflicts", "payments_archive"} {
		var c, p int64
		err = t.queryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN status = $1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = $2 THEN amount ELSE 0 END), 0) FROM `+table,
			int64(protocol.StatusSettled), int64(protocol.StatusPending)).Scan(&c, &p)
		if err != nil {
			return 0, 0, err
		}
		settled, pending = settled+c, pending+p
	}
	return settled, pending, nil
}

// PutBehind implements ledger.Tx.
func (t *Tx) PutBehind(ctx context.Context, device protocol.KeyID, acked, resultTime uint64, at int64) error {
	_, err := t.exec(ctx, `INSERT INTO behind (device, acked, result_time, found_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (device) DO UPDATE SET acked = excluded.acked, result_time = excluded.result_time, found_at = excluded.found_at
		WHERE excluded.acked > behind.acked`, id(device), int64(acked), int64(resultTime), at)
	return err
}

// Behind implements ledger.Tx.
func (t *Tx) Behind(ctx context.Context) ([]ledger.BehindRow, error) {
	rows, err := t.query(ctx, `SELECT b.device, b.acked, d.acked, b.result_time FROM behind b JOIN devices d ON d.id = b.device
		WHERE d.acked < b.acked AND NOT d.revoked ORDER BY b.device`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.BehindRow
	for rows.Next() {
		var r ledger.BehindRow
		var dev []byte
		var a, h, rt int64
		if err := rows.Scan(&dev, &a, &h, &rt); err != nil {
			return nil, err
		}
		r.Device, r.Acked, r.Held, r.ResultTime = keyID(dev), uint64(a), uint64(h), uint64(rt)
		out = append(out, r)
	}
	return out, rows.Err()
}

// InsertProof implements ledger.Tx.
func (t *Tx) InsertProof(ctx context.Context, p *ledger.ProofRow) (bool, error) {
	kind := p.Kind
	if kind == "" {
		kind = ledger.ProofEntries
	}
	n, err := t.exec(ctx, `INSERT INTO proofs (device, counter, entry_a, entry_b, found_at, kind) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (device, counter) DO NOTHING`,
		id(p.Device), int64(p.Counter), p.EntryA, p.EntryB, p.FoundAt, kind)
	return n == 1, err
}

// Proofs implements ledger.Tx.
func (t *Tx) Proofs(ctx context.Context) ([]ledger.ProofRow, error) {
	rows, err := t.query(ctx, `SELECT device, counter, entry_a, entry_b, found_at, kind FROM proofs ORDER BY device, counter`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.ProofRow
	for rows.Next() {
		var p ledger.ProofRow
		var dev []byte
		var c int64
		if err := rows.Scan(&dev, &c, &p.EntryA, &p.EntryB, &p.FoundAt, &p.Kind); err != nil {
			return nil, err
		}
		p.Device, p.Counter = keyID(dev), uint64(c)
		out = append(out, p)
	}
	return out, rows.Err()
}

const codeCols = `hash, account, created_at, expires_at, used_at, used_by, cancelled`

func (t *Tx) codes(ctx context.Context, q string, args ...any) ([]ledger.CodeRow, error) {
	rows, err := t.query(ctx, `SELECT `+codeCols+` FROM enrol_codes `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.CodeRow
	for rows.Next() {
		var c ledger.CodeRow
		var h, by []byte
		if err := rows.Scan(&h, &c.Account, &c.CreatedAt, &c.ExpiresAt, &c.UsedAt, &by, &c.Cancelled); err != nil {
			return nil, err
		}
		copy(c.Hash[:], h)
		c.UsedBy = keyID(by)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Code implements ledger.Tx.
func (t *Tx) Code(ctx context.Context, h [32]byte) (*ledger.CodeRow, error) {
	cs, err := t.codes(ctx, `WHERE hash = $1`, h[:])
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

// Codes implements ledger.Tx.
func (t *Tx) Codes(ctx context.Context) ([]ledger.CodeRow, error) {
	return t.codes(ctx, `ORDER BY created_at DESC, hash`)
}

// InsertCode implements ledger.Tx.
func (t *Tx) InsertCode(ctx context.Context, c *ledger.CodeRow) error {
	_, err := t.exec(ctx, `INSERT INTO enrol_codes (`+codeCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		c.Hash[:], c.Account, c.CreatedAt, c.ExpiresAt, c.UsedAt, id(c.UsedBy), c.Cancelled)
	return err
}

// UpdateCode implements ledger.Tx.
func (t *Tx) UpdateCode(ctx context.Context, c *ledger.CodeRow) error {
	_, err := t.exec(ctx, `UPDATE enrol_codes SET used_at = $2, used_by = $3, cancelled = $4 WHERE hash = $1`,
		c.Hash[:], c.UsedAt, id(c.UsedBy), c.Cancelled)
	return err
}
