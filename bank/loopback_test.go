package bank

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
)

// A bank's receiver on loopback that can be told to fail, hang, be slow
// or close the connection mid-request, and records every request it got.
type bankRecv struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	act    func(ev recvEvent) recvAction // nil: accept at once
	calls  []recvCall
	seen   map[string]bool
	order  map[string][]int64 // account -> statement seqs in order of first receipt
	open   map[string]int     // account -> requests in progress
	overlp []string           // accounts that had two requests in progress at once
	dups   int
}

type recvEvent struct {
	Key, Kind, Account string
	Seq                int64
}

type recvAction struct {
	status int           // 0: 204
	delay  time.Duration // before answering (a slow receiver)
	hang   bool          // until the client gives up
	close  bool          // close the connection without an answer
}

type recvCall struct {
	ev         recvEvent
	start, end time.Time
	status     int
}

func newBankRecv(t *testing.T) *bankRecv {
	r := &bankRecv{t: t, seen: map[string]bool{}, order: map[string][]int64{}, open: map[string]int{}}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *bankRecv) setAct(f func(recvEvent) recvAction) {
	r.mu.Lock()
	r.act = f
	r.mu.Unlock()
}

func (r *bankRecv) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	body, _ := io.ReadAll(req.Body)
	if err := VerifyRequest(secret, req.Header, body, time.Minute); err != nil {
		r.t.Errorf("delivery does not verify: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var env struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
		Data struct {
			Account string `json:"account"`
			Seq     int64  `json:"seq"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		r.t.Errorf("body %s: %v", body, err)
	}
	ev := recvEvent{Key: env.ID, Kind: env.Kind, Account: env.Data.Account, Seq: env.Data.Seq}
	r.mu.Lock()
	act := recvAction{}
	if r.act != nil {
		act = r.act(ev)
	}
	r.open[ev.Account]++
	if r.open[ev.Account] > 1 && ev.Account != "" {
		r.overlp = append(r.overlp, ev.Account)
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.open[ev.Account]--
		r.mu.Unlock()
	}()
	status := act.status
	switch {
	case act.hang:
		<-req.Context().Done()
		status = -1
	case act.close:
		status = -1
	case act.delay > 0:
		select {
		case <-time.After(act.delay):
		case <-req.Context().Done():
			status = -1
		}
	}
	if status == 0 {
		status = http.StatusNoContent
	}
	r.mu.Lock()
	r.calls = append(r.calls, recvCall{ev: ev, start: start, end: time.Now(), status: status})
	if status/100 == 2 {
		if r.seen[ev.Key] {
			r.dups++
		} else {
			r.seen[ev.Key] = true
			if ev.Kind == ledger.NoteAccountChanged {
				r.order[ev.Account] = append(r.order[ev.Account], ev.Seq)
			}
		}
	}
	r.mu.Unlock()
	switch {
	case act.close:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case status > 0:
		w.WriteHeader(status)
	}
}

// delivered returns how many distinct notifications were accepted.
func (r *bankRecv) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// checkOrder fails unless every account's statement lines arrived in
// sequence: 1, 2, 3, ... with none missing.
func (r *bankRecv) checkOrder(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkOrderLocked(t)
}

func (r *bankRecv) checkOrderLocked(t *testing.T) {
	t.Helper()
	for acct, seqs := range r.order {
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Errorf("account %s: statement lines arrived in the order %v", acct, seqs)
				break
			}
		}
	}
}

// liveLedger is a ledger.Service on SQLite with the real clock.
func liveLedger(t testing.TB, opts ledger.Options) (*ledger.Service, string) {
	t.Helper()
	dir := t.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ledger.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return ledger.New(st, keys, opts), path
}

// runWorker runs w until the test ends.
func runWorker(t testing.TB, w *Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func deposit(t *testing.T, svc *ledger.Service, acct string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if _, err := svc.Deposit(ctx, acct, 100, fmt.Sprintf("%s-%d-%d", acct, time.Now().UnixNano(), i)); err != nil {
			t.Fatal(err)
		}
	}
}

func accounts(t *testing.T, svc *ledger.Service, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := svc.CreateAccount(context.Background(), n, false); err != nil {
			t.Fatal(err)
		}
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOrderKeptOnRetry: an account's statement line whose delivery fails
// must not be overtaken by the lines after it. The receiver answers 500
// to alice's line 2 twice; lines 3 to 6 are written meanwhile. Before,
// retries were picked by their next attempt time and fresh lines went
// first (one account's lines arrived as 1, 3, 4, 5, 6, 2).
func TestOrderKeptOnRetry(t *testing.T) {
	svc, _ := liveLedger(t, ledger.Options{})
	accounts(t, svc, "alice")
	r := newBankRecv(t)
	fails := 0
	r.setAct(func(ev recvEvent) recvAction {
		if ev.Account == "alice" && ev.Seq == 2 && fails < 2 {
			fails++
			return recvAction{status: http.StatusInternalServerError}
		}
		return recvAction{}
	})
	w, err := NewWorker(svc, Config{URL: r.srv.URL, Secret: secret, Interval: 20 * time.Millisecond,
		MinBackoff: 200 * time.Millisecond, MaxBackoff: time.Second, Client: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	deposit(t, svc, "alice", 2)
	waitFor(t, 5*time.Second, "the first failure", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return fails > 0 })
	deposit(t, svc, "alice", 4)
	waitFor(t, 10*time.Second, "all six lines delivered", func() bool { return r.delivered() == 6 })
	r.checkOrder(t)
}

// TestSlowReceiverDoesNotBlockOthers: a request that hangs until the
// client's timeout (one account's event the bank's system is stuck on)
// must not hold up every other account's notifications. Before, the
// worker delivered one notification at a time.
func TestSlowReceiverDoesNotBlockOthers(t *testing.T) {
	svc, _ := liveLedger(t, ledger.Options{})
	accounts(t, svc, "stuck", "bob", "carol", "dave")
	r := newBankRecv(t)
	r.setAct(func(ev recvEvent) recvAction {
		if ev.Account == "stuck" {
			return recvAction{hang: true}
		}
		return recvAction{delay: 5 * time.Millisecond}
	})
	deposit(t, svc, "stuck", 1) // the oldest: first in line
	for _, a := range []string{"bob", "carol", "dave"} {
		deposit(t, svc, a, 5)
	}
	w, err := NewWorker(svc, Config{URL: r.srv.URL, Secret: secret, Interval: 20 * time.Millisecond,
		Client: &http.Client{Timeout: 3 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	runWorker(t, w)
	waitFor(t, 10*time.Second, "the 15 other notifications", func() bool { return r.delivered() == 15 })
	r.mu.Lock()
	stuck := r.open["stuck"]
	r.mu.Unlock()
	if stuck == 0 {
		t.Fatalf("the other accounts' 15 notifications took %v: they waited behind one hanging request (timeout 3 s)", time.Since(start))
	}
	t.Logf("15 notifications of 3 other accounts in %v while one request hung", time.Since(start).Round(time.Millisecond))
	r.checkOrder(t)
}

// TestRecoveryBringsRetriesForward: after an outage, the first delivery
// that succeeds shows the receiver is back; the notifications waiting out
// their backoff must go at once instead of each waiting its own (some
// waited 88 s, up to an hour at the cap).
func TestRecoveryBringsRetriesForward(t *testing.T) {
	svc, _ := liveLedger(t, ledger.Options{})
	names := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"}
	accounts(t, svc, names...)
	r := newBankRecv(t)
	var mu sync.Mutex
	down := true
	var firstOK time.Time
	r.setAct(func(recvEvent) recvAction {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return recvAction{status: http.StatusServiceUnavailable}
		}
		if firstOK.IsZero() {
			firstOK = time.Now()
		}
		return recvAction{}
	})
	w, err := NewWorker(svc, Config{URL: r.srv.URL, Secret: secret, Interval: 20 * time.Millisecond,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 30 * time.Second, Client: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	for _, a := range names {
		deposit(t, svc, a, 1)
		time.Sleep(300 * time.Millisecond) // the first ones back off longer
	}
	time.Sleep(time.Second)
	mu.Lock()
	down = false
	mu.Unlock()
	deposit(t, svc, "a1", 1) // a fresh event: it finds the receiver back
	waitFor(t, 60*time.Second, "all delivered", func() bool { return r.delivered() == len(names)+1 })
	mu.Lock()
	defer mu.Unlock()
	if d := time.Since(firstOK); d > 1500*time.Millisecond {
		t.Fatalf("the last notification arrived %v after the receiver was seen back", d.Round(time.Millisecond))
	} else {
		t.Logf("the last of %d notifications arrived %v after the receiver was seen back", len(names)+1, d.Round(time.Millisecond))
	}
}

// TestTwoProcessesOneStore: two ledger processes over one store, each
// delivering, with a receiver slower than the claim lease. Before, the
// second claimed and sent notifications the first was still sending
// (the lease was shorter than a batch, and never renewed).
func TestTwoProcessesOneStore(t *testing.T) {
	svc1, path := liveLedger(t, ledger.Options{Lease: 600 * time.Millisecond})
	st2, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	keys, err := ledger.LoadKeys(filepath.Join(filepath.Dir(path), "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc2 := ledger.New(st2, keys, ledger.Options{Lease: 600 * time.Millisecond})
	twoProcesses(t, svc1, svc2)
}

// twoProcesses runs a worker on each of two Services over one store, with
// a receiver slower than their lease, and checks that no notification
// was sent twice and no account's two notifications at once.
func twoProcesses(t *testing.T, svc1, svc2 *ledger.Service) {
	accounts(t, svc1, "alice", "bob")
	deposit(t, svc1, "alice", 3)
	deposit(t, svc1, "bob", 3)
	r := newBankRecv(t)
	r.setAct(func(recvEvent) recvAction { return recvAction{delay: 1500 * time.Millisecond} })
	for _, svc := range []*ledger.Service{svc1, svc2} {
		w, err := NewWorker(svc, Config{URL: r.srv.URL, Secret: secret, Interval: 50 * time.Millisecond,
			Client: &http.Client{Timeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		runWorker(t, w)
	}
	waitFor(t, 30*time.Second, "all six delivered", func() bool { return r.delivered() == 6 })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dups > 0 || len(r.overlp) > 0 || len(r.calls) != 6 {
		t.Fatalf("%d calls for 6 notifications, %d duplicates, accounts sent to concurrently: %v", len(r.calls), r.dups, r.overlp)
	}
	r.checkOrderLocked(t)
}

// TestRestartKeepsOrder: a ledger process stopped while it sends (its
// request hangs) and started again. Before, the stopped worker's claim
// stayed for its whole minute, and the account's newer notifications went
// out before the claimed one. Now a stop gives the claim back, and the
// restarted worker sends the account's notifications at once, in order.
func TestRestartKeepsOrder(t *testing.T) {
	svc, _ := liveLedger(t, ledger.Options{Lease: time.Minute})
	accounts(t, svc, "alice")
	r := newBankRecv(t)
	var mu sync.Mutex
	hang := true
	r.setAct(func(ev recvEvent) recvAction {
		mu.Lock()
		defer mu.Unlock()
		if hang {
			return recvAction{hang: true}
		}
		return recvAction{}
	})
	cfg := Config{URL: r.srv.URL, Secret: secret, Interval: 20 * time.Millisecond, Client: &http.Client{Timeout: 30 * time.Second}}
	w1, err := NewWorker(svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w1.Run(ctx); close(done) }()
	deposit(t, svc, "alice", 1)
	waitFor(t, 5*time.Second, "the first request", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.open["alice"] > 0 })
	stop() // the process stops with the request in flight
	<-done
	mu.Lock()
	hang = false
	mu.Unlock()
	deposit(t, svc, "alice", 2)
	w2, err := NewWorker(svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	runWorker(t, w2)
	waitFor(t, 90*time.Second, "all three lines", func() bool { return r.delivered() == 3 })
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the restarted worker took %v: the stopped one's claim was not given back", d.Round(time.Millisecond))
	}
	r.checkOrder(t)
}
