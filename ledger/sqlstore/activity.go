package sqlstore

import (
	"context"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// ActivitySQL groups the payments of the three tables (payments, conflicts
// and the archived ones, archive.go) recorded in [$1, $2) by
// interval of $3 ns. The lag is the recording's second less the payment's
// own, clamped to 0..2^31-1 s (about 68 years: a payer dating a payment
// at the epoch cannot overflow the sum); the amounts are summed in 32-bit
// halves (LineSums). Each table's range is read through its index on
// created_at (migration 012; the stores' tests check the plan).
const ActivitySQL = `SELECT (created_at - $1) / $3 AS bucket, COUNT(*),
	COALESCE(SUM(amount >> 32), 0), COALESCE(SUM(amount & 4294967295), 0), COALESCE(SUM(lag), 0), COALESCE(MAX(lag), 0)
FROM (SELECT created_at, amount, CASE WHEN created_at / 1000000000 - ptime < 0 THEN 0
		WHEN created_at / 1000000000 - ptime > 2147483647 THEN 2147483647 ELSE created_at / 1000000000 - ptime END AS lag
	FROM payments WHERE created_at >= $1 AND created_at < $2
	UNION ALL SELECT created_at, amount, CASE WHEN created_at / 1000000000 - ptime < 0 THEN 0
		WHEN created_at / 1000000000 - ptime > 2147483647 THEN 2147483647 ELSE created_at / 1000000000 - ptime END
	FROM conflicts WHERE created_at >= $1 AND created_at < $2
	UNION ALL SELECT created_at, amount, CASE WHEN created_at / 1000000000 - ptime < 0 THEN 0
		WHEN created_at / 1000000000 - ptime > 2147483647 THEN 2147483647 ELSE created_at / 1000000000 - ptime END
	FROM payments_archive WHERE created_at >= $1 AND created_at < $2) AS p
GROUP BY bucket ORDER BY bucket`

// PaymentActivity implements ledger.Tx. It reads the payments recorded in
// the range through the created_at indexes (README "Operator console" has
// its cost).
func (t *Tx) PaymentActivity(ctx context.Context, from, to, step int64) ([]ledger.ActivityRow, error) {
	if step <= 0 || to <= from {
		return nil, offpay.Errorf(offpay.EINVALID, "activity: an empty range or step")
	}
	rows, err := t.query(ctx, ActivitySQL, from, to, step)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.ActivityRow
	for rows.Next() {
		var r ledger.ActivityRow
		var hi, lo int64
		if err := rows.Scan(&r.Bucket, &r.Count, &hi, &lo, &r.LagSum, &r.LagMax); err != nil {
			return nil, err
		}
		v, over := joinHalves(hi, lo)
		if over != nil {
			return nil, offpay.Errorf(offpay.ELIMIT, "the payments of one interval total %s minor units, beyond 2^63-1", over)
		}
		r.Amount = v
		out = append(out, r)
	}
	return out, rows.Err()
}
