package ledger

import (
	"context"
	"math"
	"strconv"

	"github.com/offpay/offpay"
)

// Meta counters kept by every deposit and withdrawal (decimal minor
// units), so that the bounds below are checked without summing the
// statement lines.
const (
	metaIssued    = "issued"    // deposits less withdrawals: the money issued
	metaDeposited = "deposited" // deposits over the ledger's life
)

// MaxIssuedLimit is the highest bound Policy.MaxIssued may take: with at
// most 2^62 issued, the sums the report takes (issued plus losses,
// balances plus purse positions) keep a factor two of headroom in int64.
const MaxIssuedLimit = 1 << 62

// counter returns a meta counter inside tx, or ok false if the store has
// none yet (a ledger written before the counters existed).
func counter(ctx context.Context, tx Tx, key string) (v int64, ok bool, err error) {
	b, err := tx.Meta(ctx, key)
	if err != nil || b == nil {
		return 0, false, err
	}
	if v, err = strconv.ParseInt(string(b), 10, 64); err != nil {
		return 0, false, offpay.Errorf(offpay.EINTERNAL, "stored %s %q: %w", key, b, err)
	}
	return v, true, nil
}

// issue records a deposit (amount > 0) or a withdrawal (amount < 0) in the
// counters. It refuses a deposit that would take the money issued above
// the policy's bound, or the deposits over the ledger's life above
// 2^63-1: the report sums every kind of statement line in int64, and
// money only enters by deposit, so no kind's total can then leave int64
// however often large amounts go in and out.
func (s *Service) issue(ctx context.Context, tx Tx, amount int64) error {
	cur, ok, err := counter(ctx, tx, metaIssued)
	if err != nil {
		return err
	}
	dep, _, err := counter(ctx, tx, metaDeposited)
	if err != nil {
		return err
	}
	if !ok {
		sums, err := tx.LineSums(ctx)
		if err != nil {
			return err
		}
		dep = sums[LineDeposit]
		if cur, err = offpay.AddMinor(sums[LineDeposit], sums[LineWithdraw]); err != nil {
			return err
		}
	}
	next, err := offpay.AddMinor(cur, amount)
	if amount > 0 {
		if bound := s.Policy().MaxIssued; err != nil || next > bound {
			return offpay.Errorf(offpay.ELIMIT, "the deposit would take the money issued above the policy's bound of %d minor units (issued now: %d)", bound, cur)
		}
		if dep, err = offpay.AddMinor(dep, amount); err != nil {
			return offpay.Errorf(offpay.ELIMIT, "the deposit would take the deposits over the ledger's life above %d minor units, the most its report can sum", int64(math.MaxInt64))
		}
		if err := tx.PutMeta(ctx, metaDeposited, strconv.AppendInt(nil, dep, 10)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return tx.PutMeta(ctx, metaIssued, strconv.AppendInt(nil, next, 10))
}
