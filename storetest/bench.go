package storetest

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// Bench measures settlement throughput for `payments` payments from 100
// payers each to 4 merchants, uploaded 1000 entries at a time, a few
// uploads at once: by the payers (mode "payer": one signature per
// payment; the payments are recorded awaiting their payees' claim), by the
// merchants (mode "payee": two, the merchant's entry and the payer's
// payment; settled at once), or by the merchants after the payers
// (mode "claim": the payers' uploads untimed, then the merchants' claim
// every payment). The rate is reported as recorded (payer) or settled
// payments per second and as a ratio to crypto/ed25519 one-by-one
// verification on all cores, measured in the same run. It runs once
// whatever b.N is: the setup (signing every payment) costs more than the
// measurement.
func Bench(b *testing.B, open func(tb testing.TB) ledger.Store, payments int, mode string) {
	const perPayer = 1000
	ctx := context.Background()
	dir := b.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		b.Fatal(err)
	}
	store := open(b)
	svc := ledger.New(store, keys, ledger.Options{})
	payers := payments / perPayer
	var shops []*ledgertest.Device
	for i := range 4 {
		name := fmt.Sprintf("shop%d", i)
		must(b)(svc.CreateAccount(ctx, name, true))
		d := ledgertest.NewDevice("bench-"+name, "EUR")
		en, err := svc.Enrol(ctx, d.EnrolmentAt(name, uint64(time.Now().Unix())))
		if err != nil {
			b.Fatal(err)
		}
		d.Cert = en.Device
		shops = append(shops, d)
	}
	devs := make([]*ledgertest.Device, payers)
	bundles := make([]*protocol.PaymentBundle, payers*perPayer)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range payers {
		i := i
		name := fmt.Sprintf("p%d", i)
		must(b)(svc.CreateAccount(ctx, name, false))
		must(b)(svc.Deposit(ctx, name, 10000, "init:"+name))
		d := ledgertest.NewDevice(fmt.Sprintf("bench-%d-%s", time.Now().UnixNano(), name), "EUR")
		en, err := svc.Enrol(ctx, d.EnrolmentAt(name, uint64(time.Now().Unix())))
		if err != nil {
			b.Fatal(err)
		}
		d.Cert = en.Device
		l, err := svc.Reserve(ctx, d.Reserve(5000, 1))
		if err != nil {
			b.Fatal(err)
		}
		devs[i] = d
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d.ApplyLoad(l)
			for j := range perPayer {
				bundles[i*perPayer+j] = d.Pay(shops[j%len(shops)].ID, 1+uint64(j%4))
			}
		}()
	}
	wg.Wait()
	// Each upload is the next 1000 entries of one device; one queue per
	// device keeps its uploads in counter order.
	var queues [][]*protocol.SyncUpload
	if mode == "claim" {
		for _, d := range devs {
			if _, err := svc.Sync(ctx, d.UploadAll()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if mode == "payee" || mode == "claim" {
		for _, bu := range bundles {
			for _, sh := range shops {
				if sh.ID == bu.Payment.Payee {
					sh.Receive(bu)
				}
			}
		}
		for _, sh := range shops {
			var q []*protocol.SyncUpload
			for lo := uint64(1); lo <= sh.Counter(); lo += perPayer {
				q = append(q, sh.Upload(lo, min(lo+perPayer-1, sh.Counter())))
			}
			queues = append(queues, q)
		}
	} else {
		for _, d := range devs {
			queues = append(queues, []*protocol.SyncUpload{d.UploadAll()})
		}
	}
	// The machine may be shared: verification throughput is measured just
	// before and just after the run, and the ratio uses their mean.
	verBefore := ed25519Rate()
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	uploaders := min(2*runtime.GOMAXPROCS(0), len(queues))
	errs := make(chan error, uploaders)
	for range uploaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(queues) {
					return
				}
				for _, up := range queues[i] {
					if _, err := svc.Sync(ctx, up); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	r, err := svc.Report(ctx)
	want := int64(payers * perPayer)
	if mode == "payer" {
		want = 0 // all awaiting their claim
	}
	if err != nil || !r.ConservationOK || r.Settled != want {
		b.Fatalf("after the run: %v %+v", err, r)
	}
	rate := float64(payers*perPayer) / elapsed.Seconds()
	ver := (verBefore + ed25519Rate()) / 2
	if rs, ok := store.(interface{ Retries() int64 }); ok {
		b.ReportMetric(float64(rs.Retries()), "retries")
	}
	b.ReportMetric(rate, "payments/s")
	b.ReportMetric(ver, "ed25519-verify/s")
	b.ReportMetric(rate/ver, "ratio")
	fmt.Fprintf(os.Stderr, "%s: %d payments settled in %v: %.0f payments/s; ed25519 one-by-one on %d cores: %.0f/s; ratio %.2f\n",
		b.Name(), payers*perPayer, elapsed.Round(time.Millisecond), rate, runtime.GOMAXPROCS(0), ver, rate/ver)
}

// ed25519Rate measures crypto/ed25519 single verifications per second on
// all cores.
func ed25519Rate() float64 {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 200)
	sig := ed25519.Sign(priv, msg)
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Second)
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				for range 64 {
					if !ed25519.Verify(pub, msg, sig) {
						panic("ed25519")
					}
				}
				n.Add(64)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

func must(tb testing.TB) func(*ledger.Account, error) {
	return func(_ *ledger.Account, err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
}
