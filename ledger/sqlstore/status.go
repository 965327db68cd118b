package sqlstore

import (
	"context"
	"strconv"
	"strings"

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
	if t.d == Postgres {
		payers, sinces := make([][]byte, 0, len(since)), make([]int64, 0, len(since))
		for p, s := range since {
			payers, sinces = append(payers, id(p)), append(sinces, s)
		}
		return t.paymentsQuery(ctx, StatusRowsSQL(t.d, len(since)), payers, sinces)
	}
	args := make([]any, 0, 2*len(since))
	for p, s := range since {
		args = append(args, id(p), s)
	}
	// SQLite has no arrays: the payers are a VALUES list, padded to a
	// power-of-two count of rows (a repeated payer only repeats rows), and
	// each "?" is bound once: the list is written once per part.
	_, args = t.inList(args, 2)
	return t.paymentsQuery(ctx, StatusRowsSQL(t.d, len(args)/2), append(append(append([]any(nil), args...), args...), args...)...)
}

// StatusRowsSQL is StatusRows' statement for n payers: PostgreSQL binds
// two arrays ($1 payers, $2 times); SQLite n (payer, time) pairs, three
// times over. The payers are the outer loop (CROSS JOIN keeps SQLite from
// scanning a whole index of payments instead), each read through the
// indexes of its pending and resolved payments (the partial index of the
// pending ones named for SQLite, which otherwise reads all of a payer's
// payments by its primary key, as PendingOf does).
func StatusRowsSQL(d Dialect, n int) string {
	k := `unnest($1::bytea[], $2::bigint[]) AS k(payer, since)`
	if d == SQLite {
		k = `(SELECT column1 AS payer, column2 AS since FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?),", n), ",") + `)) k`
	}
	open := `payments`
	if d == SQLite {
		open += ` INDEXED BY payments_open` // else it reads all the payer's payments by the primary key
	}
	from := func(table string) string {
		return `SELECT ` + paymentSel + ` FROM ` + k + ` CROSS JOIN ` + table + ` WHERE payments.payer = k.payer AND `
	}
	return from(open) + `payments.status = ` + strconv.Itoa(int(protocol.StatusPending)) +
		` UNION ALL ` + from(`payments`) + `payments.resolved_at > 0 AND payments.resolved_at >= k.since` +
		` UNION ALL ` + from(`payments_archive payments`) + `payments.resolved_at > 0 AND payments.resolved_at >= k.since`
}
