package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// settleFixture builds a ledger where payers paid a merchant payments
// times offline, and returns the merchant's upload of them.
func settleFixture(b *testing.B, svc *ledger.Service, payments int) *protocol.SyncUpload {
	b.Helper()
	ctx := context.Background()
	now := uint64(time.Now().Unix())
	shop := ledgertest.NewDevice("shop", "EUR")
	shop.Time = now
	mustB(b, func() error { _, err := svc.CreateAccount(ctx, "shop", true); return err })
	e, err := svc.Enrol(ctx, shop.Enrolment("shop"))
	if err != nil {
		b.Fatal(err)
	}
	shop.Cert = e.Device
	const perPayer = 50
	for p := 0; p*perPayer < payments; p++ {
		name := fmt.Sprintf("p%d", p)
		d := ledgertest.NewDevice(name, "EUR")
		d.Time = now
		mustB(b, func() error { _, err := svc.CreateAccount(ctx, name, false); return err })
		mustB(b, func() error { _, err := svc.Deposit(ctx, name, 10000, "dep-"+name); return err })
		e, err := svc.Enrol(ctx, d.Enrolment(name))
		if err != nil {
			b.Fatal(err)
		}
		d.Cert = e.Device
		l, err := svc.Reserve(ctx, d.Reserve(10000, 1))
		if err != nil {
			b.Fatal(err)
		}
		d.ApplyLoad(l)
		for i := 0; i < perPayer && p*perPayer+i < payments; i++ {
			shop.Receive(d.Pay(shop.ID, 100))
		}
	}
	return shop.UploadAll()
}

func mustB(b *testing.B, f func() error) {
	b.Helper()
	if err := f(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSettleOverHTTP settles 1000 offline payments uploaded by the
// merchant in one sync, through the HTTP API on loopback and, for
// comparison, by calling the service directly. The difference is what the
// HTTP layer (transfer, size check, decoding, encoding) costs.
func BenchmarkSettleOverHTTP(b *testing.B) {
	const payments = 1000
	for _, viaHTTP := range []bool{false, true} {
		name := "direct"
		if viaHTTP {
			name = "http"
		}
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				b.StopTimer()
				svc, _ := realLedger(b)
				up := settleFixture(b, svc, payments)
				ts := httptest.NewServer(New(svc, Options{Logger: discard(), RateLimit: RateLimit{Disabled: true}}))
				body := protocol.Seal(up)
				b.StartTimer()
				start := time.Now()
				if viaHTTP {
					resp, err := http.Post(ts.URL+"/v1/sync", ContentType, bytes.NewReader(body))
					if err != nil || resp.StatusCode != 200 {
						b.Fatalf("sync: %v %v", resp.Status, err)
					}
					resp.Body.Close()
				} else if _, err := svc.Sync(context.Background(), up); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				b.StopTimer()
				ts.Close()
			}
			b.ReportMetric(float64(payments*b.N)/total.Seconds(), "payments/s")
		})
	}
}
