package fedtest

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/natsfwd"
	"github.com/offpay/offpay/natsfwd/natstest"
	"github.com/offpay/offpay/protocol"
)

// BenchmarkCrossProvider measures settlement throughput with 1, 2 and 3
// providers on this machine: payers spread over the providers each pay
// payees at the next provider (at the same one when there is one), the
// payees upload, and the evidence is delivered to the payers' providers
// in process, 500 at a time as a consumer fetches them (the ledgers' work;
// NATS adds its own). A
// payment counts once both sides have settled it. Reported: payments/s
// of wall time and of process CPU time.
//
//	go test -run - -bench CrossProvider -benchtime 1x ./internal/fedtest
func BenchmarkCrossProvider(b *testing.B) {
	for _, k := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("providers=%d", k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchOnce(b, k, 6000, "")
			}
		})
	}
	// The same through NATS JetStream: each provider publishes what it
	// queued, then each consumes its subject.
	for _, k := range []int{2, 3} {
		b.Run(fmt.Sprintf("providers=%d/nats", k), func(b *testing.B) {
			srv := natstest.Start(b)
			for i := 0; i < b.N; i++ {
				benchOnce(b, k, 6000, srv.URL)
			}
		})
	}
}

func benchOnce(b *testing.B, k, payments int, natsURL string) {
	b.StopTimer()
	names := []string{"bankA", "bankB", "bankC"}[:k]
	f := newFed(b, names...)
	const payers, payees = 150, 60
	type dev struct {
		d *ledgertest.Device
		p *provider
	}
	mk := func(role string, n int, i int) dev {
		p := f.ps[names[i%k]]
		acct := fmt.Sprintf("%s%d", role, i)
		if _, err := p.svc.CreateAccount(ctx, acct, false); err != nil {
			b.Fatal(err)
		}
		if _, err := p.svc.Deposit(ctx, acct, 1_000_000, "open:"+acct); err != nil {
			b.Fatal(err)
		}
		d := ledgertest.NewDevice(fmt.Sprintf("bench/%d/%s", k, acct), "EUR")
		en, err := p.svc.Enrol(ctx, d.EnrolmentAt(acct, uint64(f.clock().Unix())))
		if err != nil {
			b.Fatal(err)
		}
		d.Cert = en.Device
		return dev{d, p}
	}
	var ps, qs []dev
	for i := 0; i < payers; i++ {
		x := mk("payer", payers, i)
		l, err := x.p.svc.Reserve(ctx, x.d.Reserve(90_000, 1))
		if err != nil {
			b.Fatal(err)
		}
		x.d.ApplyLoad(l)
		ps = append(ps, x)
	}
	for i := 0; i < payees; i++ {
		qs = append(qs, mk("payee", payees, i+1)) // payee i at the provider after payer i's
	}
	for i := 0; i < payments; i++ {
		x, y := ps[i%payers], qs[(i*7)%payees]
		y.d.Receive(x.d.Pay(y.d.ID, 10))
	}
	start, cpu0 := time.Now(), cpuTime()
	b.StartTimer()
	var wg sync.WaitGroup
	for _, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := q.p.svc.Sync(ctx, q.d.UploadAll()); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	if natsURL != "" {
		bus, err := natsfwd.Dial(ctx, natsURL, natsfwd.Config{Stream: fmt.Sprintf("BENCH_%d", time.Now().UnixNano()), Prefix: fmt.Sprintf("bench%d.", time.Now().UnixNano())})
		if err != nil {
			b.Fatal(err)
		}
		defer bus.Close()
		for _, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if m, err := bus.Publish(ctx, f.ps[n].svc, 1000); err != nil || m == 0 {
						if err != nil {
							b.Error(err)
						}
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cons, err := bus.Consumer(ctx, n, f.ps[n].svc)
				if err == nil {
					_, err = cons.Drain(ctx, payments, 2*time.Second)
				}
				if err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	} else if k > 1 {
		for _, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				src := f.ps[n].svc
				for {
					rows, err := src.PendingForwards(ctx, 500)
					if err != nil || len(rows) == 0 {
						if err != nil {
							b.Error(err)
						}
						return
					}
					ids := make([]protocol.Hash, len(rows))
					by := map[string][][]byte{}
					for i, r := range rows {
						by[r.Provider] = append(by[r.Provider], r.Data)
						ids[i] = r.ID
					}
					for dst, data := range by {
						_, errs := f.ps[dst].svc.SettleForwardedBatch(ctx, data)
						for _, err := range errs {
							if err != nil {
								b.Error(err)
								return
							}
						}
					}
					if err := src.MarkForwarded(ctx, ids); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	wall, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(payments)/wall.Seconds(), "payments/s")
	b.ReportMetric(float64(payments)/cpu.Seconds(), "payments/cpu-s")
	for _, n := range names {
		r, err := f.ps[n].svc.Report(ctx)
		if err != nil || !r.ConservationOK {
			b.Fatalf("%s: %v %v", n, r, err)
		}
	}
	if k > 1 {
		var owe int64
		for _, n := range names {
			obs, _ := f.ps[n].svc.Obligations(ctx)
			for _, o := range obs {
				owe += o.Owe
			}
		}
		if owe != int64(payments)*10 {
			b.Fatalf("obligations %d, want %d", owe, payments*10)
		}
	}
	b.StartTimer()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
