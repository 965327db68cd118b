package bench

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

func TestQuantilesNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted input
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	p50, p99 := Quantiles(ds)
	if p50 != 50*time.Millisecond || p99 != 99*time.Millisecond {
		t.Fatalf("p50 %v p99 %v, want 50ms 99ms", p50, p99)
	}
	if ds[0] != 100*time.Millisecond {
		t.Fatal("Quantiles sorted its caller's slice")
	}
	if p50, p99 := Quantiles([]time.Duration{7}); p50 != 7 || p99 != 7 {
		t.Fatalf("one sample: %v %v", p50, p99)
	}
}

func TestCSVColumns(t *testing.T) {
	rows := []Row{
		{Metric: "settle_throughput", Store: "sqlite", N: 1000, Value: 31234.567, Unit: "payments/s", Ratio: 1.234},
		{Metric: "size_receipt", Store: "-", Value: 128, Unit: "bytes", Ratio: math.NaN()},
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	want := "metric,store,n,value,unit,ratio_to_limit\nsettle_throughput,sqlite,1000,31235,payments/s,1.23\nsize_receipt,-,,128,bytes,\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteMarkdown(&b, rows, "test machine", []string{"a note"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| settle_throughput | sqlite | 1000 | 31235 | payments/s | 1.23 |") {
		t.Fatalf("markdown:\n%s", b.String())
	}
}

// TestSettleChecksTheLedger settles a small run end to end: every payment
// settles once and the report agrees (Settle fails otherwise).
func TestSettleChecksTheLedger(t *testing.T) {
	ctx := context.Background()
	svc, closeFn, err := newService(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var seen []int
	res, err := Settle(ctx, svc, 300, func(done int) { seen = append(seen, done) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Payments != 300 || res.Uploads != 1 || res.Elapsed <= 0 || len(seen) != 1 || seen[0] != 300 {
		t.Fatalf("result %+v, progress %v", res, seen)
	}
}

// BenchmarkSettle10k settles 10,000 payments per iteration on a fresh
// SQLite ledger and reports the rate against the ed25519 limit.
func BenchmarkSettle10k(b *testing.B) {
	ctx := context.Background()
	limit := VerifyRate(time.Second)
	var total SettleResult
	for range b.N {
		b.StopTimer()
		svc, closeFn, err := newService(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := Settle(ctx, svc, 10_000, nil)
		b.StopTimer()
		closeFn()
		if err != nil {
			b.Fatal(err)
		}
		total.Payments += r.Payments
		total.Elapsed += r.Elapsed
	}
	b.ReportMetric(total.Rate(), "payments/s")
	b.ReportMetric(total.Rate()/limit, "ratio")
}

// BenchmarkVerifyLimit is the ed25519 one-by-one rate on all cores.
func BenchmarkVerifyLimit(b *testing.B) {
	var r float64
	for range b.N {
		r = VerifyRate(200 * time.Millisecond)
	}
	b.ReportMetric(r, "verifications/s")
}

// TestBeside: what a payment spends beside its batched verification is
// taken from the largest SQLite settlement, and the budget that settling
// at twice the one-by-one limit leaves is half a one-by-one verification
// less a batched one.
func TestBeside(t *testing.T) {
	rows := beside([]Row{
		{Metric: "settle_cpu_per_payment", Store: "sqlite", N: 1000, Value: 50},
		{Metric: "settle_cpu_per_payment", Store: "postgres", N: 100000, Value: 90},
		{Metric: "settle_cpu_per_payment", Store: "sqlite", N: 100000, Value: 40},
	}, 36*time.Microsecond, 12*time.Microsecond)
	if len(rows) != 2 || rows[0].N != 100000 || rows[0].Value != 28 || rows[1].Value != 6 || rows[1].Ratio != 6.0/28 {
		t.Fatalf("got %+v", rows)
	}
	if beside(nil, time.Microsecond, time.Microsecond) != nil {
		t.Fatal("rows without a SQLite settlement")
	}
}
