package wallet_test

import (
	"sort"
	"testing"
	"time"

	"github.com/offpay/offpay/wallet"
)

// BenchmarkWalletPayAcceptConfirm is one offline payment through two
// wallets in this process: the SE writes and the history writes, each
// fsynced (six atomic writes). Envelopes are encoded and parsed as a
// transport would carry them. Reports median and p99. The wallets sync
// (untimed) every 50 payments.
func BenchmarkWalletPayAcceptConfirm(b *testing.B) {
	e := newEnv(b)
	pol := e.led.Policy()
	pol.Person.MaxOfflineCount = 1 << 40
	pol.Person.MaxOfflineValue = 1 << 60
	pol.Person.Holding = 1 << 60
	if err := e.led.SetPolicy(pol); err != nil {
		b.Fatal(err)
	}
	a, c := e.wallet("alice"), e.wallet("carol")
	if err := a.Reserve(ctx, 900_000); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.now.Add(30) // a busy till: two payments a minute
		if i%50 == 49 {
			// Devices online now and then: keeps logs and history bounded.
			b.StopTimer()
			for _, w := range []*wallet.Wallet{a, c, a} {
				if err := w.Sync(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		req, err := c.Request(1, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		bundle, err := a.Pay(req, 0)
		if err != nil {
			b.Fatal(err)
		}
		rc, err := c.Accept(bundle)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Confirm(rc); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
