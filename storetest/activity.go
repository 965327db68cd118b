package storetest

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/sqlstore"
	"github.com/offpay/offpay/protocol"
)

// testActivity: the console's chart of settlements and sync lag. Payments
// are counted in the interval the ledger recorded them, with their value
// and how long they were offline (the payment's own time to recording);
// both payments of a double spend count (the conflicts table too); an
// interval without payments is zeros, and a payment outside the range is
// left out.
func testActivity(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 500)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	a, b, c := e.Device("act-a", "alice"), e.Device("act-b", "bob"), e.Device("act-c", "carol")
	e.Load(a, 200)
	start := e.Now().Truncate(time.Hour)
	if start.Before(e.Now()) {
		start = start.Add(time.Hour)
	}
	e.Advance(start.Sub(e.Now()) + 10*time.Minute) // 00:10 of the first hour

	// Hour 0: bob uploads a payment made 600 s ago (its time is the
	// payer's clock + 1).
	a.Time = uint64(e.Now().Unix()) - 601
	pb := a.Pay(b.ID, 30)
	b.Receive(pb)
	e.SyncAll(b)

	// Hour 2: a clone of alice's SE pays carol 40 with the counter of a
	// payment to bob of 50, both made 100 s ago: two payments recorded,
	// one of them a conflict.
	e.Advance(2 * time.Hour)
	a.Time = uint64(e.Now().Unix()) - 101
	a2 := a.Clone()
	b.Receive(a.Pay(b.ID, 50))
	c.Receive(a2.Pay(c.ID, 40))
	e.SyncAll(b)
	e.SyncAll(c)
	if r := e.Conserved(); len(r.DoubleSpends) != 1 {
		t.Fatalf("the clone was not caught: %+v", r.DoubleSpends)
	}

	act, err := e.Svc.Activity(e.Ctx, start, start.Add(4*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(act.Buckets) != 4 || act.Step != 3600 || act.Currency != "EUR" || !act.Buckets[1].Start.Equal(start.Add(time.Hour)) {
		t.Fatalf("activity: %+v", act)
	}
	want := []struct{ n, amount, mean, max int64 }{{1, 30, 600, 600}, {0, 0, 0, 0}, {2, 90, 100, 100}, {0, 0, 0, 0}}
	for i, w := range want {
		g := act.Buckets[i]
		if g.Payments != w.n || g.Amount != w.amount || g.LagMean != w.mean || g.LagMax != w.max {
			t.Errorf("hour %d: %+v, want %+v", i, g, w)
		}
	}
	// A range that starts after the first payment leaves it out; one
	// interval of ten minutes holds the later two.
	act, err = e.Svc.Activity(e.Ctx, start.Add(2*time.Hour), start.Add(2*time.Hour+30*time.Minute), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(act.Buckets) != 3 || act.Buckets[1].Payments != 2 || act.Buckets[0].Payments != 0 || act.Buckets[2].Payments != 0 {
		t.Fatalf("10-minute intervals: %+v", act.Buckets)
	}
	// Bad ranges are refused, typed.
	for _, q := range []struct {
		from, to time.Time
		step     time.Duration
	}{
		{start, start, time.Hour},
		{start.Add(time.Hour), start, time.Hour},
		{start, start.Add(time.Hour), time.Second},
		{start, start.Add(time.Hour), 90500 * time.Millisecond},
		{start, start.Add(1001 * time.Minute), time.Minute},
		{time.Unix(0, 0), time.Unix(1<<40, 0), 24 * time.Hour},
	} {
		_, err := e.Svc.Activity(e.Ctx, q.from, q.to, q.step)
		Code(t, err, offpay.EINVALID)
	}
}

// BenchActivity times the console's chart query over n payments spread
// over a week: a day by hours and the week by six hours (it scans the
// payments in the range: there is no index on created_at).
func BenchActivity(b *testing.B, open func(testing.TB) ledger.Store, n int) {
	st := open(b)
	ctx := context.Background()
	week := int64(7 * 24 * time.Hour)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for lo := 0; lo < n; lo += 1000 {
		rows := make([]ledger.PaymentRow, 0, 1000)
		for i := lo; i < min(lo+1000, n); i++ {
			at := start + int64(i)*(week/int64(n))
			var payer protocol.KeyID
			binary.BigEndian.PutUint64(payer[:], uint64(i/100))
			rows = append(rows, ledger.PaymentRow{Payer: payer, Counter: uint64(i%100 + 1), ID: protocol.Hash{byte(i), byte(i >> 8), byte(i >> 16)},
				Payee: protocol.KeyID{1}, Amount: 100 + int64(i%900), Status: protocol.StatusSettled, CreatedAt: at, Time: uint64(at/1e9) - uint64(i%7200)})
		}
		if err := st.Update(ctx, func(tx ledger.Tx) error { return tx.InsertPayments(ctx, rows) }); err != nil {
			b.Fatal(err)
		}
	}
	// The bytes of the payments' indexes, per payment (the created_at
	// index of migration 012, and on PostgreSQL the primary key).
	var indexBytes float64
	if s, ok := st.(interface {
		Sizes(context.Context) (*sqlstore.Sizes, error)
	}); ok {
		sz, err := s.Sizes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		indexBytes = float64(sz.Indexes["payments"]) / float64(n)
	}
	for _, q := range []struct {
		name       string
		span, step time.Duration
	}{{"day-by-hour", 24 * time.Hour, time.Hour}, {"week-by-6h", 7 * 24 * time.Hour, 6 * time.Hour}} {
		b.Run(q.name, func(b *testing.B) {
			from := start + week - int64(q.span)
			for b.Loop() {
				var got []ledger.ActivityRow
				err := st.View(ctx, func(tx ledger.Tx) (err error) {
					got, err = tx.PaymentActivity(ctx, from, start+week, int64(q.step))
					return err
				})
				if err != nil || len(got) == 0 {
					b.Fatalf("%v %d", err, len(got))
				}
			}
			if indexBytes > 0 {
				b.ReportMetric(indexBytes, "index-B/payment")
			}
		})
	}
}
