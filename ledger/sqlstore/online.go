package sqlstore

import (
	"context"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Online payments (ledger/online.go).

// OnlinePayment implements ledger.Tx.
func (t *Tx) OnlinePayment(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*ledger.OnlineRow, error) {
	rows, err := t.query(ctx, `SELECT id, payer, payer_account, payee_account, amount, receipt, created_at FROM online_payments WHERE payee = $1 AND nonce = $2`,
		id(payee), nonce[:])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	r := &ledger.OnlineRow{Payee: payee, Nonce: nonce}
	var pid, payer []byte
	if err := rows.Scan(&pid, &payer, &r.PayerAccount, &r.PayeeAccount, &r.Amount, &r.Receipt, &r.CreatedAt); err != nil {
		return nil, err
	}
	r.ID, r.Payer = hash(pid), keyID(payer)
	return r, rows.Err()
}

// InsertOnlinePayment implements ledger.Tx.
func (t *Tx) InsertOnlinePayment(ctx context.Context, r *ledger.OnlineRow) error {
	_, err := t.exec(ctx, `INSERT INTO online_payments (payee, nonce, id, payer, payer_account, payee_account, amount, receipt, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		id(r.Payee), r.Nonce[:], r.ID[:], id(r.Payer), r.PayerAccount, r.PayeeAccount, r.Amount, r.Receipt, r.CreatedAt)
	return err
}

// OnlineTotals implements ledger.Tx.
func (t *Tx) OnlineTotals(ctx context.Context) (ledger.OnlineTotals, error) {
	var o ledger.OnlineTotals
	err := t.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(amount), 0),
		COALESCE(SUM(CASE WHEN payer_account LIKE $1 THEN 0 ELSE amount END), 0),
		COALESCE(SUM(CASE WHEN payee_account LIKE $1 THEN 0 ELSE amount END), 0) FROM online_payments`,
		ledger.ForeignPrefix+"%").Scan(&o.Count, &o.Value, &o.Paid, &o.Received)
	return o, err
}
