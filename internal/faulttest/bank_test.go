package faulttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
)

// TestBankReconcilesAfterFaults runs `offpay ledger serve` with a webhook
// to a bank's receiver in this process, while devices settle payments
// (person to person, and to merchants), the operator deposits, the
// receiver goes through outages (503s, hanging requests, connections
// closed mid-request, slow answers, redirects) and the ledger is SIGKILLed
// with deliveries in flight and started again. Afterwards the receiver
// holds every notification, each account's in event_seq order, and a
// bank's reconciliation (bank.Reconcile) matches every statement line and
// settled payment to exactly one of them; the ledger's export is the
// bodies the bank got, byte for byte.
func TestBankReconcilesAfterFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const secret = "faulttest-webhook-secret-0123456789"
	rcv := newBankReceiver(t, []byte(secret))
	p := newLedgerWith(t, "", []string{"--webhook", rcv.srv.URL + "/hook", "--webhook-timeout", "1s", "--webhook-max-backoff", "2s",
		"--webhook-lease", "3s", "--webhook-concurrency", "8"}, []string{"OFFPAY_WEBHOOK_SECRET=" + secret})
	admin, err := ledgerclient.New(p.url(), ledgerclient.Options{AdminToken: p.token(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	people, rounds := 16, 4
	if raceEnabled || testing.Short() {
		people, rounds = 8, 3
	}
	fleet, err := bench.NewFleet(ctx, bench.ClientAdmin{Client: admin}, "EUR", people, rounds)
	if err != nil {
		t.Fatal(err)
	}
	shops, err := newShopFleet(ctx, bench.ClientAdmin{Client: admin}, people/2, 2, rounds)
	if err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("fault schedule seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	stop := make(chan struct{})
	var faults sync.WaitGroup
	faults.Add(2)
	go func() { // the receiver's outages
		defer faults.Done()
		modes := []string{"down", "hang", "close", "slow", "redirect"}
		for i := 0; ; i++ {
			mode := "up"
			if i%2 == 1 {
				mode = modes[(i/2)%len(modes)]
			}
			rcv.setMode(mode)
			d := time.Duration(200+rng.IntN(300)) * time.Millisecond
			if mode != "up" {
				d = time.Duration(400+rng.IntN(800)) * time.Millisecond
			}
			select {
			case <-stop:
				return
			case <-time.After(d):
			}
		}
	}()
	var restartErr error
	killRng := rand.New(rand.NewPCG(seed>>2, seed>>3))
	killed := make(chan struct{}, 100)
	go func() { // SIGKILLs of the ledger, the first early
		defer faults.Done()
		wait := time.Duration(50+killRng.IntN(200)) * time.Millisecond
		for {
			select {
			case <-stop:
				return
			case <-time.After(wait):
			}
			wait = time.Duration(300+killRng.IntN(900)) * time.Millisecond
			p.kill()
			killed <- struct{}{}
			if restartErr = p.start(); restartErr != nil {
				cancel()
				return
			}
		}
	}()

	dev, err := ledgerclient.New(p.url(), ledgerclient.Options{HTTPClient: &http.Client{Timeout: 3 * time.Second}, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var attempts, failures atomic.Int64
	errs := make(chan error, len(fleet.Devices)+len(shops.devices)+1)
	upload := func(rounds [][]*protocol.SyncUpload, i int) {
		defer wg.Done()
		for r := range rounds {
			if u := rounds[r][i]; u != nil {
				if err := syncUntilAcked(ctx, dev, u, &attempts, &failures); err != nil {
					errs <- err
					return
				}
			}
		}
	}
	for i := range fleet.Devices {
		wg.Add(1)
		go upload(fleet.Rounds, i)
	}
	for i := range shops.devices {
		wg.Add(1)
		go upload(shops.rounds, i)
	}
	wg.Add(1)
	go func() { // the operator deposits meanwhile, for a few seconds (idempotent by ref: retried until acknowledged)
		defer wg.Done()
		for i := range 3 * people {
			time.Sleep(100 * time.Millisecond)
			name := fmt.Sprintf("dev%d", i%people)
			for {
				if _, err := admin.Deposit(ctx, name, 100, fmt.Sprintf("top-up-%d", i)); err == nil {
					break
				} else if ctx.Err() != nil {
					errs <- err
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
	wg.Wait()
	for range 3 { // at least three kills meanwhile
		<-killed
	}
	close(stop)
	faults.Wait()
	// Twice more, a SIGKILL while the receiver is answering a delivery: the
	// bank took it, the ledger never heard, so it comes again (a repeat).
	for i := range 2 {
		rcv.setMode("slow")
		if _, err := admin.Deposit(ctx, "dev0", 1, fmt.Sprintf("in-flight-%d", i)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-rcv.inFlight:
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery reached the receiver")
		}
		p.kill()
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
	}
	close(errs)
	if restartErr != nil {
		t.Fatalf("restarting the ledger: %v", restartErr)
	}
	for err := range errs {
		t.Fatalf("%v\nthe server said:\n%s", err, tail(p.log.String(), 3000))
	}
	if p.kills == 0 {
		t.Fatal("the ledger was never killed: the test proved nothing")
	}

	// The receiver is back for good: the backlog drains.
	rcv.setMode("up")
	back := time.Now()
	var rep *ledger.Report
	for {
		if rep, err = admin.Report(ctx); err == nil && rep.Outbox.Pending == 0 {
			break
		}
		if ctx.Err() != nil || time.Since(back) > time.Minute {
			t.Fatalf("the outbox did not drain in a minute after the receiver came back: %+v, %v\n%s", rep.Outbox, err, tail(p.log.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	drained := time.Since(back)
	if rep.Outbox.Dead != 0 {
		t.Fatalf("%d notifications given up", rep.Outbox.Dead)
	}
	if rep.Settled != int64(fleet.Payments+shops.payments) || !rep.ConservationOK || len(rep.RevokedDevices) > 0 {
		t.Fatalf("report: %d settled of %d, conservation %v", rep.Settled, fleet.Payments+shops.payments, rep.ConservationOK)
	}

	books := bank.Books{Statements: map[string][]ledger.StatementLine{}, Settled: rep.Settled}
	for _, name := range append(fleetAccounts(people), shops.accounts...) {
		ls, err := admin.Statement(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		books.Statements[name] = ls
	}
	events, bodies := rcv.received()
	res, err := bank.Reconcile(events, books)
	if err != nil {
		t.Fatal(err)
	}
	if v := rcv.orderViolations(); len(v) > 0 {
		t.Fatalf("accounts' notifications out of event_seq order: %v", v)
	}
	// The export is what the bank got, byte for byte.
	var q ledger.OutboxQuery
	exported := 0
	for {
		page, err := admin.Outbox(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range page.Notifications {
			n := &page.Notifications[i]
			b, err := bank.Body(n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, bodies[n.IdempotencyKey]) {
				t.Fatalf("export of %s differs from the body the bank got:\n%s\n%s", n.IdempotencyKey, b, bodies[n.IdempotencyKey])
			}
			exported++
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if exported != res.Events {
		t.Fatalf("exported %d notifications, the bank got %d", exported, res.Events)
	}
	calls := rcv.callsByOutcome()
	t.Logf("%d payments, %d statement lines, %d notifications (%d settled payments) reconciled; ledger killed %d times; receiver calls by outcome %v; %d repeats; backlog drained %v after the receiver came back",
		rep.Settled, res.Lines, res.Events, res.SettledPayments, p.kills, calls, rcv.repeats(), drained.Round(time.Millisecond))
	if rcv.repeats() < 2 {
		t.Fatalf("%d repeats: the deliveries the ledger was killed in the middle of did not come again", rcv.repeats())
	}
	if calls["accepted"] == 0 || calls["down"]+calls["hang"]+calls["close"]+calls["redirect"] == 0 {
		t.Fatalf("the receiver's faults were not exercised: %v", calls)
	}
}

func fleetAccounts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("dev%d", i)
	}
	return out
}

// shopFleet: person devices paying merchant terminals in rounds; the
// terminals log what they receive, so settle_in lines sweep the payments
// into the merchant accounts.
type shopFleet struct {
	devices  []*bench.Device
	rounds   [][]*protocol.SyncUpload
	accounts []string
	payments int
}

func newShopFleet(ctx context.Context, a bench.Admin, payers, merchants, rounds int) (*shopFleet, error) {
	f := &shopFleet{}
	pending := make([][]protocol.LogEntry, payers+merchants)
	for i := range payers + merchants {
		name, merchant, deposit, load := fmt.Sprintf("pay%d", i), false, int64(2000), uint64(1000)
		if i >= payers {
			name, merchant, deposit, load = fmt.Sprintf("shop%d", i-payers), true, 0, 0
		}
		d, head, err := bench.NewEnrolled(ctx, a, "EUR", name, merchant, deposit, load)
		if err != nil {
			return nil, err
		}
		f.devices, f.accounts, pending[i] = append(f.devices, d), append(f.accounts, name), head
	}
	for r := range rounds {
		for i := range payers {
			m := payers + (i+r)%merchants
			e, b := f.devices[i].Pay(f.devices[m].ID, uint64(1+(i+r)%7))
			pending[i] = append(pending[i], e)
			pending[m] = append(pending[m], f.devices[m].Receive(b))
			f.payments++
		}
		ups := make([]*protocol.SyncUpload, len(f.devices))
		for i, d := range f.devices {
			if len(pending[i]) > 0 {
				ups[i] = d.Upload(pending[i])
				pending[i] = nil
			}
		}
		f.rounds = append(f.rounds, ups)
	}
	return f, nil
}

// bankReceiver is a bank's endpoint: it verifies each delivery (v2), keeps
// the first body of each key, and notes any account whose notifications
// arrive out of event_seq order. Its mode says how it answers.
type bankReceiver struct {
	t      *testing.T
	secret []byte
	srv    *httptest.Server

	mu       sync.Mutex
	mode     string
	bodies   map[string][]byte
	events   []*bank.Event
	last     map[string]int64
	bad      []string
	calls    map[string]int
	repeated int
	inFlight chan struct{} // signalled when a slow answer starts
}

func newBankReceiver(t *testing.T, secret []byte) *bankReceiver {
	r := &bankReceiver{t: t, secret: secret, mode: "up", bodies: map[string][]byte{}, last: map[string]int64{}, calls: map[string]int{},
		inFlight: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *bankReceiver) setMode(m string) {
	r.mu.Lock()
	r.mode = m
	r.mu.Unlock()
}

func (r *bankReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if err := bank.VerifyRequest(r.secret, req.Header, body, time.Minute); err != nil {
		r.t.Errorf("a delivery does not verify: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	mode := r.mode
	outcome := mode
	if mode == "up" || mode == "slow" {
		outcome = "accepted"
	}
	r.calls[outcome]++
	r.mu.Unlock()
	switch mode {
	case "down":
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	case "redirect":
		http.Redirect(w, req, "/elsewhere", http.StatusFound)
		return
	case "hang":
		<-req.Context().Done()
		return
	case "close":
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case "slow":
		select {
		case r.inFlight <- struct{}{}:
		default:
		}
		time.Sleep(600 * time.Millisecond)
	}
	ev, err := bank.ParseEvent(body)
	if err != nil {
		r.t.Errorf("body: %v", err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, seen := r.bodies[ev.ID]; seen {
		r.repeated++
	} else {
		r.bodies[ev.ID] = body
		r.events = append(r.events, ev)
		if ev.EventSeq != r.last[ev.Account]+1 {
			r.bad = append(r.bad, fmt.Sprintf("%s: %d after %d", ev.Account, ev.EventSeq, r.last[ev.Account]))
		}
		r.last[ev.Account] = max(r.last[ev.Account], ev.EventSeq)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *bankReceiver) received() ([]*bank.Event, map[string][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*bank.Event(nil), r.events...), r.bodies
}

func (r *bankReceiver) orderViolations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.bad...)
	sort.Strings(out)
	return out
}

func (r *bankReceiver) callsByOutcome() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.calls {
		out[k] = v
	}
	return out
}

func (r *bankReceiver) repeats() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.repeated
}
