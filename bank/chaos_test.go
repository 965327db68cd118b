package bank

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/prometheus/client_golang/prometheus"
)

// metricValue returns the value of the counter or gauge name whose labels
// include labels (name, value pairs) in reg, or -1 if there is none.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// TestChaosReceiver: ten accounts' statement lines through a receiver that
// at random answers 500, redirects, hangs past the timeout, is slow, or
// closes the connection mid-request. Every line arrives, each account's
// in sequence, and nothing is given up.
func TestChaosReceiver(t *testing.T) {
	svc, _ := liveLedger(t, ledger.Options{})
	names := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
	accounts(t, svc, names...)
	r := newBankRecv(t)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 11))
	r.setAct(func(recvEvent) recvAction {
		mu.Lock()
		defer mu.Unlock()
		switch rng.IntN(10) {
		case 0:
			return recvAction{status: http.StatusInternalServerError}
		case 1:
			return recvAction{close: true}
		case 2:
			return recvAction{hang: true}
		case 3:
			return recvAction{status: http.StatusFound}
		case 4:
			return recvAction{delay: 50 * time.Millisecond}
		}
		return recvAction{}
	})
	reg := prometheus.NewRegistry()
	w, err := NewWorker(svc, Config{URL: r.srv.URL, Secret: secret, Interval: 20 * time.Millisecond, Metrics: reg,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Client: &http.Client{Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	var wg sync.WaitGroup
	for _, a := range names {
		wg.Add(1)
		go func() { defer wg.Done(); deposit(t, svc, a, 10) }()
	}
	wg.Wait()
	waitFor(t, 60*time.Second, "all 100 lines delivered", func() bool { return r.delivered() == 100 })
	// A line the receiver took while the client gave up is still pending:
	// it goes again (the receiver dedups by key).
	waitFor(t, 10*time.Second, "an empty outbox", func() bool {
		st, err := svc.OutboxStats(context.Background())
		return err == nil && st.Pending == 0
	})
	r.checkOrder(t)
	r.mu.Lock()
	calls := len(r.calls)
	r.mu.Unlock()
	for _, res := range []string{resultServerError, resultNetwork, resultTimeout, resultRedirect} {
		if metricValue(t, reg, "offpay_bank_deliveries_total", "result", res) <= 0 {
			t.Errorf("no %s failure counted in %d calls", res, calls)
		}
	}
	if st, err := svc.OutboxStats(context.Background()); err != nil || st.Dead != 0 {
		t.Fatalf("outbox after: %+v %v", st, err)
	}
	t.Logf("100 notifications in %d calls", calls)
}

// TestDeadLetter: a notification the receiver keeps refusing is given up
// once it has failed for longer than DeadAfter; it then no longer holds
// its account's later notifications back, the report and the metrics
// count it, and a resend delivers it.
func TestDeadLetter(t *testing.T) {
	svc, _ := liveLedger(t, ledger.Options{})
	accounts(t, svc, "alice")
	r := newBankRecv(t)
	var mu sync.Mutex
	refuse := true
	r.setAct(func(ev recvEvent) recvAction {
		mu.Lock()
		defer mu.Unlock()
		if ev.Seq == 1 && refuse {
			return recvAction{status: http.StatusUnprocessableEntity}
		}
		return recvAction{}
	})
	reg := prometheus.NewRegistry()
	if err := reg.Register(OutboxCollector(svc.OutboxStats, nil)); err != nil {
		t.Fatal(err)
	}
	w, err := NewWorker(svc, Config{URL: r.srv.URL, Secret: secret, Interval: 20 * time.Millisecond, Metrics: reg,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, DeadAfter: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, w)
	deposit(t, svc, "alice", 3)
	waitFor(t, 10*time.Second, "lines 2 and 3 past the dead letter", func() bool { return r.delivered() == 2 })
	ctx := context.Background()
	// The receiver has both; the worker records the second delivery just
	// after it answered.
	var rep *ledger.Report
	waitFor(t, 10*time.Second, "the deliveries recorded", func() bool {
		var err error
		rep, err = svc.Report(ctx)
		return err == nil && rep.Outbox.Pending == 0
	})
	if rep.Outbox.Dead != 1 {
		t.Fatalf("report's outbox %+v", rep.Outbox)
	}
	if got := metricValue(t, reg, "offpay_bank_dead_letters_total"); got != 1 {
		t.Fatalf("offpay_bank_dead_letters_total %v", got)
	}
	if d, p := metricValue(t, reg, "offpay_bank_outbox_notifications", "state", "dead"),
		metricValue(t, reg, "offpay_bank_outbox_notifications", "state", "pending"); d != 1 || p != 0 {
		t.Fatalf("offpay_bank_outbox_notifications: dead %v, pending %v", d, p)
	}
	page, err := svc.Outbox(ctx, ledger.OutboxQuery{State: ledger.OutboxDead})
	if err != nil || len(page.Notifications) != 1 || !strings.Contains(page.Notifications[0].LastError, "dead letter: webhook answered 422") {
		t.Fatalf("dead letters %+v %v", page, err)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	if n, err := svc.Resend(ctx, ledger.OutboxQuery{Key: page.Notifications[0].IdempotencyKey}); err != nil || n != 1 {
		t.Fatalf("resend: %d %v", n, err)
	}
	w.Kick()
	waitFor(t, 10*time.Second, "the resent dead letter", func() bool { return r.delivered() == 3 })
}
