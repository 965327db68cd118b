package sqlstore

import (
	"context"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Federation's forwarded evidence (ledger/forward.go).

// InsertForwards implements ledger.Tx.
func (t *Tx) InsertForwards(ctx context.Context, rs []ledger.ForwardRow) error {
	for i := range rs {
		r := &rs[i]
		if _, err := t.exec(ctx, `INSERT INTO forwards (id, provider, data, created_at, sent_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (id) DO NOTHING`,
			r.ID[:], r.Provider, r.Data, r.CreatedAt, r.SentAt); err != nil {
			return err
		}
	}
	return nil
}

// Forwards implements ledger.Tx.
func (t *Tx) Forwards(ctx context.Context, limit int) ([]ledger.ForwardRow, error) {
	rows, err := t.query(ctx, `SELECT id, provider, data, created_at, sent_at FROM forwards WHERE sent_at = 0 ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.ForwardRow
	for rows.Next() {
		var r ledger.ForwardRow
		var pid []byte
		if err := rows.Scan(&pid, &r.Provider, &r.Data, &r.CreatedAt, &r.SentAt); err != nil {
			return nil, err
		}
		r.ID = hash(pid)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkForwarded implements ledger.Tx.
func (t *Tx) MarkForwarded(ctx context.Context, ids []protocol.Hash, at int64) error {
	for i := range ids {
		if _, err := t.exec(ctx, `UPDATE forwards SET sent_at = $1 WHERE id = $2 AND sent_at = 0`, at, ids[i][:]); err != nil {
			return err
		}
	}
	return nil
}
