package ledger

import (
	"context"
	"math"
	"time"
)

// Limits of an activity query: the console charts a day or a week.
const (
	MinActivityStep    = time.Minute
	MaxActivityBuckets = 1000
)

// Activity is the payments the ledger recorded over time: settlements per
// interval and their sync lag (how long a payment was offline before the
// ledger learned it).
type Activity struct {
	From     time.Time        `json:"from"`
	To       time.Time        `json:"to"`
	Step     int64            `json:"step_seconds"`
	Currency string           `json:"currency"`
	Buckets  []ActivityBucket `json:"buckets"`
}

// ActivityBucket is one interval, from Start for Step seconds (the last
// one may end early, at To). An interval without payments has zeros.
type ActivityBucket struct {
	Start    time.Time `json:"start"`
	Payments int64     `json:"payments"`
	Amount   int64     `json:"amount_minor"`
	// LagMean and LagMax are in seconds: from the payment's own time to
	// the ledger recording it (mean rounded down; 0 without payments).
	LagMean int64 `json:"lag_mean_seconds"`
	LagMax  int64 `json:"lag_max_seconds"`
}

// Activity returns the payments recorded from from to to (excluded) in
// intervals of step: every interval, in order, those without payments
// as zeros. The step is at least MinActivityStep, whole seconds, and
// makes at most MaxActivityBuckets intervals.
//
// A zero to is the end of the step-long interval that holds the ledger's
// now (whole hours for an hour); a zero from is a day before to.
func (s *Service) Activity(ctx context.Context, from, to time.Time, step time.Duration) (*Activity, error) {
	if to.IsZero() && step >= MinActivityStep {
		to = s.now().Truncate(step).Add(step)
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	switch {
	case !from.Before(to):
		return nil, invalid("activity: from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	case step < MinActivityStep || step%time.Second != 0:
		return nil, invalid("activity: the step must be whole seconds, at least %s", MinActivityStep)
	}
	span := to.Sub(from) // saturates at about 292 years
	n := span / step
	if span%step != 0 {
		n++
	}
	if n > MaxActivityBuckets || span == time.Duration(math.MaxInt64) {
		return nil, invalid("activity: at most %d intervals (a longer step or a shorter range)", MaxActivityBuckets)
	}
	a := &Activity{From: from.UTC(), To: to.UTC(), Step: int64(step / time.Second), Currency: s.opts.Currency, Buckets: make([]ActivityBucket, n)}
	for i := range a.Buckets {
		a.Buckets[i].Start = a.From.Add(time.Duration(i) * step)
	}
	var rows []ActivityRow
	err := s.view(ctx, func(tx Tx) (err error) {
		rows, err = tx.PaymentActivity(ctx, from.UnixNano(), to.UnixNano(), int64(step))
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Bucket < 0 || r.Bucket >= int64(n) || r.Count <= 0 {
			continue // the store kept to the range; nothing else to count
		}
		b := &a.Buckets[r.Bucket]
		b.Payments, b.Amount, b.LagMean, b.LagMax = r.Count, r.Amount, r.LagSum/r.Count, r.LagMax
	}
	return a, nil
}
