package sqlstore

import (
	"context"
	"strconv"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// StatusRows implements ledger.Tx: PendingOf's and ResolvedOf's rows of
// many payers in one statement (a group commit's round trips on
// PostgreSQL). A row both pending and resolved (never written so) comes
// once per part; the caller keys rows by payer and counter.
func (t *Tx) StatusRows(ctx context.Context, since map[protocol.KeyID]int64) ([]ledger.PaymentRow, error) {
	if len(since) == 0 {
		return nil, nil
	}
	pending := strconv.Itoa(int(protocol.StatusPending))
	parts := func(k string) string {
		return `SELECT ` + paymentSel + ` FROM payments JOIN ` + k + ` ON payments.payer = k.payer WHERE payments.status = ` + pending +
			` UNION ALL SELECT ` + paymentSel + ` FROM payments JOIN ` + k + ` ON payments.payer = k.payer WHERE payments.resolved_at > 0 AND payments.resolved_at >= k.since` +
			` UNION ALL SELECT ` + paymentSel + ` FROM payments_archive payments JOIN ` + k + ` ON payments.payer = k.payer WHERE payments.resolved_at > 0 AND payments.resolved_at >= k.since`
	}
	if t.d == Postgres {
		payers, sinces := make([][]byte, 0, len(since)), make([]int64, 0, len(since))
		for p, s := range since {
			payers, sinces = append(payers, id(p)), append(sinces, s)
		}
		return t.paymentsQuery(ctx, parts(`unnest($1::bytea[], $2::bigint[]) AS k(payer, since)`), payers, sinces)
	}
	args := make([]any, 0, 2*len(since))
	for p, s := range since {
		args = append(args, id(p), s)
	}
	// SQLite has no arrays: the payers are a VALUES list, padded to a
	// power-of-two count of rows (a repeated payer only repeats rows).
	in, args := t.inList(args, 2)
	k := `(SELECT column1 AS payer, column2 AS since FROM (VALUES ` + in[1:len(in)-1] + `)) k`
	// Each "?" is bound once: the list is written once per part.
	return t.paymentsQuery(ctx, parts(k), append(append(append([]any(nil), args...), args...), args...)...)
}
