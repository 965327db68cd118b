package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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

// BenchmarkReserveOverHTTP is the rate at which one ledger on SQLite
// serves reservations (a signed request in, a write transaction, a signed
// Load out) to four parallel clients, over loopback HTTP and, for
// comparison, by direct calls.
func BenchmarkReserveOverHTTP(b *testing.B) {
	for _, viaHTTP := range []bool{false, true} {
		name := "direct"
		if viaHTTP {
			name = "http"
		}
		b.Run(name, func(b *testing.B) { benchReserve(b, viaHTTP) })
	}
}

func benchReserve(b *testing.B, viaHTTP bool) {
	ctx := context.Background()
	svc, _ := realLedger(b)
	var devs []*ledgertest.Device
	for i := range 8 {
		name := fmt.Sprintf("d%d", i)
		d := ledgertest.NewDevice(name, "EUR")
		d.Time = uint64(time.Now().Unix())
		mustB(b, func() error { _, err := svc.CreateAccount(ctx, name, false); return err })
		mustB(b, func() error { _, err := svc.Deposit(ctx, name, 1<<40, "dep-"+name); return err })
		e, err := svc.Enrol(ctx, d.Enrolment(name))
		if err != nil {
			b.Fatal(err)
		}
		d.Cert = e.Device
		devs = append(devs, d)
	}
	ts := httptest.NewServer(New(svc, Options{Logger: discard(), RateLimit: RateLimit{Disabled: true}}))
	defer ts.Close()
	// Requests are signed up front so that the loop measures the server.
	var reqs []*protocol.ReserveRequest
	for i := range b.N {
		reqs = append(reqs, devs[i%len(devs)].Reserve(1, uint64(i+1)))
	}
	// A timeout turns a stuck ledger into a failure instead of a hang.
	client := &http.Client{Timeout: 30 * time.Second}
	var next atomic.Int64
	b.SetParallelism(2) // with GOMAXPROCS 2: four clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := reqs[next.Add(1)-1]
			if !viaHTTP {
				if _, err := svc.Reserve(ctx, req); err != nil {
					b.Error(err)
					return
				}
				continue
			}
			resp, err := client.Post(ts.URL+"/v1/reserve", ContentType, bytes.NewReader(protocol.Seal(req)))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reserves/s")
}
