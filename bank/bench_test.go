package bank

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
)

// BenchmarkDelivery measures delivery from a ledger on SQLite to a
// receiver on loopback that verifies each delivery and answers at once, or
// after 20 ms (a bank's system booking it): b.N statement lines over 64
// accounts, written first, then delivered. It reports notifications per
// second.
func BenchmarkDelivery(b *testing.B) {
	for _, c := range []struct {
		conc  int
		delay time.Duration
	}{{1, 0}, {16, 0}, {1, 20 * time.Millisecond}, {16, 20 * time.Millisecond}} {
		conc := c.conc
		b.Run(fmt.Sprintf("concurrency=%d/answer=%v", conc, c.delay), func(b *testing.B) {
			svc, _ := liveLedger(b, ledger.Options{})
			ctx := context.Background()
			const accts = 64
			for i := range accts {
				if _, err := svc.CreateAccount(ctx, fmt.Sprintf("a%d", i), false); err != nil {
					b.Fatal(err)
				}
			}
			for i := range b.N {
				if _, err := svc.Deposit(ctx, fmt.Sprintf("a%d", i%accts), 1, fmt.Sprintf("r%d", i)); err != nil {
					b.Fatal(err)
				}
			}
			var got atomic.Int64
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if VerifyRequest(secret, r.Header, body, time.Minute) != nil {
					http.Error(w, "bad", http.StatusUnauthorized)
					return
				}
				time.Sleep(c.delay)
				w.WriteHeader(http.StatusNoContent)
				if got.Add(1) == int64(b.N) {
					close(done)
				}
			}))
			defer srv.Close()
			w, err := NewWorker(svc, Config{URL: srv.URL, Secret: secret, Concurrency: conc, Interval: 10 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			runWorker(b, w)
			<-done
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "notifications/s")
		})
	}
}
