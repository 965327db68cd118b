package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// testConcurrent: 50 goroutines upload overlapping logs (full logs,
// prefixes, repeats) of payers and payees at once, and pairs of payer and
// payee upload the same payment at the same instant. Every payment is
// recorded exactly once.
func testConcurrent(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	rng := rand.New(rand.NewPCG(1, 2))
	var payers, payees []*ledgertest.Device
	want := map[*ledgertest.Device]int64{}
	for i := range 10 {
		name := fmt.Sprintf("cp%d", i)
		e.Account(name, false, 1000)
		d := e.Device("conc-"+name, name)
		e.Load(d, 500)
		payers = append(payers, d)
	}
	for i := range 5 {
		name := fmt.Sprintf("cq%d", i)
		e.Account(name, i < 3, 0)
		payees = append(payees, e.Device("conc-"+name, name))
	}
	for _, p := range payers {
		for j := range 10 {
			q := payees[j%len(payees)]
			amt := uint64(1 + rng.IntN(40))
			q.Receive(p.Pay(q.ID, amt))
			want[q] += int64(amt)
		}
	}
	type job struct {
		d  *ledgertest.Device
		to uint64
	}
	var jobs []job
	for _, d := range append(append([]*ledgertest.Device{}, payers...), payees...) {
		for range 3 {
			jobs = append(jobs, job{d, d.Counter()})
		}
		jobs = append(jobs, job{d, uint64(1 + rng.IntN(int(d.Counter())))})
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	// Pairs racing on one payment: released together.
	start := make(chan struct{})
	var pairs []job
	for i := range 10 {
		name := fmt.Sprintf("cr%d", i)
		e.Account(name, false, 100)
		e.Account(name+"s", true, 0)
		x, y := e.Device("conc-"+name, name), e.Device("conc-"+name+"s", name+"s")
		e.Load(x, 50)
		y.Receive(x.Pay(y.ID, 7))
		pairs = append(pairs, job{x, x.Counter()}, job{y, y.Counter()})
	}
	// Claims racing: the payer's confirm entry against the payee's
	// receive (credited once), and a payment its payee never received
	// against the payee's sync entry past its deadline (refunded once).
	for i := range 10 {
		name := fmt.Sprintf("ck%d", i)
		e.Account(name, false, 100)
		e.Account(name+"s", true, 0)
		e.Account(name+"x", false, 0)
		x, y, z := e.Device("conc-"+name, name), e.Device("conc-"+name+"s", name+"s"), e.Device("conc-"+name+"x", name+"x")
		e.Load(x, 50)
		b := x.Pay(y.ID, 9)
		y.Receive(b)
		x.Confirm(y.Receipt(b))
		lost := x.Pay(z.ID, 4)
		syncedAt(z, lost.Payment.Time+protocol.ClaimWindow)
		pairs = append(pairs, job{x, x.Counter()}, job{y, y.Counter()}, job{z, z.Counter()})
	}
	// Several Services over one store, as several stateless servers over
	// one database: exactly-once must come from the store, not from a
	// lock inside one process.
	svcs := []*ledger.Service{e.Svc.Service}
	for range 4 {
		svcs = append(svcs, ledger.New(e.Store, testKeys(t), ledger.Options{Clock: e.Now}))
	}
	ch := make(chan job)
	errs := make(chan error, len(jobs)+len(pairs))
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if _, err := svcs[g%len(svcs)].Sync(e.Ctx, j.d.Upload(1, j.to)); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := svcs[i%len(svcs)].Sync(e.Ctx, p.d.Upload(1, p.to)); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent sync: %v", err)
	}
	r := e.Conserved()
	if r.Settled != 120 {
		t.Fatalf("settled %d payments, want 120", r.Settled)
	}
	byID := map[string]int64{}
	for _, d := range r.Devices {
		byID[d.Device] = d.Received
	}
	for q, w := range want {
		if byID[q.ID.String()] != w {
			t.Fatalf("payee %v received %d, want %d", q.ID, byID[q.ID.String()], w)
		}
	}
	for i := range 3 {
		if got := e.Balance(fmt.Sprintf("cq%d", i)); got != want[payees[i]] {
			t.Fatalf("merchant cq%d balance %d, want %d", i, got, want[payees[i]])
		}
	}
	for i := range 10 {
		if got := e.Balance(fmt.Sprintf("cr%ds", i)); got != 7 {
			t.Fatalf("racing pair %d: merchant balance %d, want 7", i, got)
		}
		if got := e.Balance(fmt.Sprintf("ck%ds", i)); got != 9 {
			t.Fatalf("racing claim %d: merchant balance %d, want 9", i, got)
		}
		if got := e.Balance(fmt.Sprintf("ck%d", i)); got != 100-50+4 {
			t.Fatalf("racing expiry %d: payer balance %d, want 54", i, got)
		}
	}
}

// testConcurrentReserve: the same reserve request retried from many
// servers at once debits once and yields one Load; distinct requests get
// distinct, consecutive sequence numbers.
func testConcurrentReserve(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 10000)
	a := e.Device("cres-a", "alice")
	svcs := []*ledger.Service{e.Svc.Service}
	for range 3 {
		svcs = append(svcs, ledger.New(e.Store, testKeys(t), ledger.Options{Clock: e.Now}))
	}
	same := a.Reserve(100, 1)
	var mu sync.Mutex
	loads := map[uint64]string{}
	var sameLoads []string
	var wg sync.WaitGroup
	for g := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := same
			if g%2 == 1 {
				req = a.Reserve(10, uint64(100+g))
			}
			l, err := svcs[g%len(svcs)].Reserve(e.Ctx, req)
			if err != nil {
				t.Errorf("reserve: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if g%2 == 0 {
				sameLoads = append(sameLoads, string(l.Marshal()))
			}
			loads[l.Seq] = string(l.Marshal())
		}()
	}
	wg.Wait()
	for _, s := range sameLoads {
		if s != sameLoads[0] {
			t.Fatalf("one request id, two different loads")
		}
	}
	if len(loads) != 13 {
		t.Fatalf("%d distinct loads, want 13", len(loads))
	}
	for seq := uint64(1); seq <= 13; seq++ {
		if loads[seq] == "" {
			t.Fatalf("load sequence has a hole at %d", seq)
		}
	}
	if got := e.Balance("alice"); got != 10000-100-12*10 {
		t.Fatalf("balance %d, want %d", got, 10000-100-12*10)
	}
}
