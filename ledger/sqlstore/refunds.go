package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math/big"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Refunds (ledger/refunds.go): the first refund of each sale, and the
// sales merchant accounts are held for.

const (
	refundCols   = `sale, payer, counter, pid, amount, drawn, account, line_seq, src_device, src_counter`
	openSaleCols = `pid, payer, counter, device, account, amount, closes, stale, src_device, src_counter, released`
)

// hashArgs returns hs as query arguments.
func hashArgs(hs []protocol.Hash) []any {
	args := make([]any, len(hs))
	for i := range hs {
		args[i] = hs[i][:]
	}
	return args
}

// byHash runs q (ending in "IN ") for chunks of hs and scans each row.
func (t *Tx) byHash(ctx context.Context, q string, hs []protocol.Hash, scan func(*sql.Rows) error) error {
	const per = 500
	for lo := 0; lo < len(hs); lo += per {
		in, args := t.inList(hashArgs(hs[lo:min(lo+per, len(hs))]), 1)
		rows, err := t.query(ctx, q+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// SaleRefunds implements ledger.Tx.
func (t *Tx) SaleRefunds(ctx context.Context, sales []protocol.Hash) (map[protocol.Hash]*ledger.RefundRow, error) {
	out := map[protocol.Hash]*ledger.RefundRow{}
	err := t.byHash(ctx, `SELECT `+refundCols+` FROM refunds WHERE sale IN `, sales, func(rows *sql.Rows) error {
		r := new(ledger.RefundRow)
		var sale, payer, pid, src []byte
		var counter, srcCounter int64
		if err := rows.Scan(&sale, &payer, &counter, &pid, &r.Amount, &r.Drawn, &r.Account, &r.LineSeq, &src, &srcCounter); err != nil {
			return err
		}
		r.Sale, r.Payer, r.Counter, r.PID = hash(sale), keyID(payer), uint64(counter), hash(pid)
		r.SrcDevice, r.SrcCounter = keyID(src), uint64(srcCounter)
		out[r.Sale] = r
		return nil
	})
	return out, err
}

// InsertSaleRefunds implements ledger.Tx.
func (t *Tx) InsertSaleRefunds(ctx context.Context, rs []ledger.RefundRow) error {
	return t.insertMany(ctx, `INSERT INTO refunds (`+refundCols+`)`, ``, 10, len(rs), func(i int) []any {
		r := &rs[i]
		return []any{r.Sale[:], id(r.Payer), int64(r.Counter), r.PID[:], r.Amount, r.Drawn, r.Account, r.LineSeq, id(r.SrcDevice), int64(r.SrcCounter)}
	})
}

// OpenSaleOf implements ledger.Tx: a range of open_sales_payer.
func (t *Tx) OpenSaleOf(ctx context.Context, payer protocol.KeyID, pid protocol.Hash) (*ledger.OpenSaleRow, error) {
	r := new(ledger.OpenSaleRow)
	var pidB, payerB, dev, src []byte
	var counter, closes, stale, srcCounter, released int64
	err := t.queryRow(ctx, `SELECT `+openSaleCols+` FROM open_sales WHERE payer = $1 AND pid = $2`, id(payer), pid[:]).Scan(
		&pidB, &payerB, &counter, &dev, &r.Account, &r.Amount, &closes, &stale, &src, &srcCounter, &released)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.Released = released != 0
	r.PID, r.Payer, r.Counter, r.Device = hash(pidB), keyID(payerB), uint64(counter), keyID(dev)
	r.Closes, r.Stale, r.SrcDevice, r.SrcCounter = uint64(closes), uint64(stale), keyID(src), uint64(srcCounter)
	return r, nil
}

// OpenSalePayers implements ledger.Tx: a range of open_sales_device,
// each row read.
func (t *Tx) OpenSalePayers(ctx context.Context, device protocol.KeyID) (map[protocol.Hash]protocol.KeyID, error) {
	rows, err := t.query(ctx, `SELECT pid, payer FROM open_sales WHERE device = $1`, id(device))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[protocol.Hash]protocol.KeyID{}
	for rows.Next() {
		var pid, payer []byte
		if err := rows.Scan(&pid, &payer); err != nil {
			return nil, err
		}
		out[hash(pid)] = keyID(payer)
	}
	return out, rows.Err()
}

// saleHour is the bucket of open_sales' indexes by time (migration 013:
// "closes / 3600", "stale / 3600"; the queries must say it so to use
// them): sales inserted by one upload share a bucket's last pages.
const saleHour = 3600

// clamp keeps a time a signed 64-bit column can hold: a sale's time comes
// from its payer's clock.
func clamp(t uint64) int64 { return int64(min(t, 1<<63-1)) }

// InsertOpenSales implements ledger.Tx.
func (t *Tx) InsertOpenSales(ctx context.Context, rs []ledger.OpenSaleRow) error {
	return t.insertMany(ctx, `INSERT INTO open_sales (`+openSaleCols+`)`, ``, 11, len(rs), func(i int) []any {
		r := &rs[i]
		released := 0
		if r.Released {
			released = 1
		}
		return []any{r.PID[:], id(r.Payer), int64(r.Counter), id(r.Device), r.Account, r.Amount, clamp(r.Closes), clamp(r.Stale),
			id(r.SrcDevice), int64(r.SrcCounter), released}
	})
}

// DeleteOpenSales implements ledger.Tx, by primary key.
func (t *Tx) DeleteOpenSales(ctx context.Context, rs []ledger.OpenSaleRow) error {
	for i := range rs {
		r := &rs[i]
		if _, err := t.exec(ctx, `DELETE FROM open_sales WHERE payer = $1 AND counter = $2 AND pid = $3`, id(r.Payer), int64(r.Counter), r.PID[:]); err != nil {
			return err
		}
	}
	return nil
}

// CloseSales implements ledger.Tx.
func (t *Tx) CloseSales(ctx context.Context, device protocol.KeyID, at uint64) error {
	_, err := t.exec(ctx, `DELETE FROM open_sales WHERE device = $1 AND closes / 3600 <= $2 AND closes <= $3`, id(device), clamp(at)/saleHour, clamp(at))
	return err
}

// CloseStaleSales implements ledger.Tx: the rows stay, released.
func (t *Tx) CloseStaleSales(ctx context.Context, now int64, limit int) (int, error) {
	n, err := t.exec(ctx, `UPDATE open_sales SET released = 1 WHERE (payer, counter, pid) IN (SELECT payer, counter, pid FROM open_sales
		WHERE released = 0 AND stale / 3600 <= $1 AND stale <= $2 ORDER BY stale LIMIT $3)`, now/saleHour, now, limit)
	return int(n), err
}

// ReleasedSales implements ledger.Tx, summed in two 32-bit halves as
// Refundable does.
func (t *Tx) ReleasedSales(ctx context.Context) (int64, error) {
	var hi, lo int64
	if err := t.queryRow(ctx, `SELECT COALESCE(SUM(amount >> 32), 0), COALESCE(SUM(amount & 4294967295), 0) FROM open_sales WHERE released = 1`).Scan(&hi, &lo); err != nil {
		return 0, err
	}
	v, over := joinHalves(hi, lo)
	if over != nil {
		return 0, offpay.Errorf(offpay.ELIMIT, "released sales total %s, beyond 2^63-1", over)
	}
	return v, nil
}

// Refundable implements ledger.Tx. Amounts are summed in two 32-bit
// halves, exactly, as LineSums does.
func (t *Tx) Refundable(ctx context.Context, accounts []string) (map[string]int64, error) {
	q := `SELECT account, COALESCE(SUM(amount >> 32), 0), COALESCE(SUM(amount & 4294967295), 0) FROM open_sales WHERE released = 0`
	var args []any
	if accounts != nil {
		if len(accounts) == 0 {
			return map[string]int64{}, nil
		}
		for _, a := range accounts {
			args = append(args, a)
		}
		var in string
		in, args = t.inList(args, 1)
		q += ` AND device IN (SELECT id FROM devices WHERE account IN ` + in + `)`
	}
	return t.halfSums(ctx, q+` GROUP BY account`, args, func(k string, v *big.Int) error {
		return offpay.Errorf(offpay.ELIMIT, "account %q's refundable sales total %s, beyond 2^63-1", k, v)
	})
}
