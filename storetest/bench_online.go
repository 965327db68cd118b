package storetest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// BenchOnline measures online payments (ledger.PayOnline): b.N payments
// from 64 payers to 4 merchants, each request paid once, by workers
// goroutines at once; each payment is its own transaction (a debit, a
// credit, the recorded payment and the signed receipt). It reports
// payments per second. Requests and payments are signed before the
// timer starts.
func BenchOnline(b *testing.B, open func(tb testing.TB) ledger.Store, workers int) {
	ctx := context.Background()
	keys, err := ledger.Init(filepath.Join(b.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		b.Fatal(err)
	}
	svc := ledger.New(open(b), keys, ledger.Options{})
	now := uint64(time.Now().Unix())
	enrol := func(label, account string, merchant bool) *ledgertest.Device {
		must(b)(svc.CreateAccount(ctx, account, merchant))
		d := ledgertest.NewDevice(label, "EUR")
		en, err := svc.Enrol(ctx, d.EnrolmentAt(account, now))
		if err != nil {
			b.Fatal(err)
		}
		d.Cert, d.Time = en.Device, now
		return d
	}
	var shops, payers []*ledgertest.Device
	for i := range 4 {
		shops = append(shops, enrol(fmt.Sprintf("bo-shop%d", i), fmt.Sprintf("shop%d", i), true))
	}
	for i := range 64 {
		name := fmt.Sprintf("p%d", i)
		payers = append(payers, enrol("bo-"+name, name, false))
		must(b)(svc.Deposit(ctx, name, int64(b.N)*100+100, "bench:"+name))
	}
	ps := make([]*protocol.OnlinePayment, b.N)
	for i := range ps {
		shop := shops[i%len(shops)]
		ps[i] = payers[i%len(payers)].PayOnline(shop.Request(100, uint64(i), now+3600), 100)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := svc.PayOnline(ctx, ps[i]); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range ps {
		next <- i
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "payments/s")
	r, err := svc.Report(ctx)
	if err != nil || !r.ConservationOK || r.OnlinePayments != int64(b.N) {
		b.Fatalf("after the run: %v, %+v", err, r)
	}
}
