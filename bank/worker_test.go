package bank

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var secret = []byte("whsec-test-0123456789abcdef")

// receiver is a bank's webhook endpoint as a receiver should write one:
// verify the signature over the raw body, then dedup by idempotency key.
type receiver struct {
	t     *testing.T
	clock *clock
	mu    sync.Mutex
	calls int
	fail  func(call int) bool // answer 500 to this call (numbered from 1)
	seen  map[string][]byte   // idempotency key -> first body
	dups  int
	srv   *httptest.Server
}

func newReceiver(t *testing.T, c *clock, fail func(int) bool) *receiver {
	r := &receiver{t: t, clock: c, fail: fail, seen: map[string][]byte{}}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := VerifyRequestAt(secret, req.Header, body, time.Minute, r.clock.Now()); err != nil {
		r.t.Errorf("delivery does not verify: %v", err)
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	if r.fail != nil && r.fail(r.calls) {
		http.Error(w, "temporarily broken", http.StatusInternalServerError)
		return
	}
	key := req.Header.Get(IdempotencyHeader)
	var ev struct {
		ID   string          `json:"id"`
		Kind string          `json:"kind"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != key || ev.Kind != req.Header.Get(EventHeader) {
		r.t.Errorf("body %s does not match headers (key %q): %v", body, key, err)
	}
	if prev, ok := r.seen[key]; ok {
		r.dups++
		if !bytes.Equal(prev, body) {
			r.t.Errorf("duplicate of %s with another body:\n%s\n%s", key, prev, body)
		}
	} else {
		r.seen[key] = body
	}
	w.WriteHeader(http.StatusNoContent)
}

func newTestWorker(t *testing.T, o Outbox, c *clock, url string) *Worker {
	t.Helper()
	w, err := NewWorker(o, Config{
		URL: url, Secret: secret, Concurrency: 8, Now: c.Now,
		MinBackoff: time.Second, MaxBackoff: time.Minute,
		Client: &http.Client{Timeout: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// drain runs the worker, advancing the clock past every backoff, until the
// outbox is empty or rounds run out.
func drain(t *testing.T, w *Worker, o *fakeOutbox, c *clock, rounds int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < rounds && o.pending() > 0; i++ {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Logf("round %d: %v", i, err)
		}
		c.Advance(2 * time.Minute) // past MaxBackoff and the lease
	}
	if n := o.pending(); n > 0 {
		t.Fatalf("%d notifications still pending after %d rounds", n, rounds)
	}
}

func TestDeliverySignedWithHeaders(t *testing.T) {
	c := &clock{t: time.Unix(1767225600, 0)}
	o := newFakeOutbox(c, 5)
	r := newReceiver(t, c, nil)
	w := newTestWorker(t, o, c, r.srv.URL)
	n, err := w.RunOnce(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if o.pending() != 0 || len(r.seen) != 5 || r.calls != 5 {
		t.Fatalf("pending %d, received %d in %d calls", o.pending(), len(r.seen), r.calls)
	}
	var ev struct {
		Data struct {
			Amount int64 `json:"amount_minor"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.seen["pay-0003"], &ev); err != nil || ev.Data.Amount != 300 {
		t.Fatalf("payload not carried intact: %s", r.seen["pay-0003"])
	}
}

func TestRetryAfterFailures(t *testing.T) {
	c := &clock{t: time.Unix(1767225600, 0)}
	o := newFakeOutbox(c, 3)
	r := newReceiver(t, c, func(call int) bool { return call <= 7 })
	w := newTestWorker(t, o, c, r.srv.URL)

	start := c.Now()
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, it := range o.items {
		if it.delivered || it.n.Attempts != 1 || !strings.Contains(it.lastErr, "500") {
			t.Fatalf("after a 500: delivered %v attempts %d lastErr %q", it.delivered, it.n.Attempts, it.lastErr)
		}
		// First retry: MinBackoff with equal jitter.
		if d := it.next.Sub(start); d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("first retry after %v, want within [0.5s, 1s]", d)
		}
	}
	// Nothing is offered again before its time.
	if ns, _ := o.ClaimNotifications(context.Background(), 10); len(ns) != 0 {
		t.Fatalf("claimed %d notifications before their retry time", len(ns))
	}
	c.Advance(2 * time.Minute)
	drain(t, w, o, c, 10)
	if len(r.seen) != 3 || r.calls != 10 {
		t.Fatalf("received %d distinct in %d calls, want 3 in 10", len(r.seen), r.calls)
	}
}

// TestNoLoss delivers 200 notifications through a receiver that fails a
// third of the calls and a worker whose MarkDelivered sometimes fails
// after the receiver accepted (a crash at the worst moment). Every
// notification must arrive; duplicates must carry the same key and body.
func TestNoLoss(t *testing.T) {
	c := &clock{t: time.Unix(1767225600, 0)}
	o := newFakeOutbox(c, 200)
	rng := rand.New(rand.NewPCG(1, 2))
	var rngMu sync.Mutex
	r := newReceiver(t, c, func(int) bool {
		rngMu.Lock()
		defer rngMu.Unlock()
		return rng.IntN(3) == 0
	})
	w := newTestWorker(t, o, c, r.srv.URL)
	o.failMarkDelivered = 10
	drain(t, w, o, c, 200)
	if len(r.seen) != 200 {
		t.Fatalf("receiver saw %d distinct notifications, want 200", len(r.seen))
	}
	if r.dups < 10 {
		t.Fatalf("%d duplicates, want at least the 10 whose MarkDelivered failed", r.dups)
	}
}

func TestMetrics(t *testing.T) {
	c := &clock{t: time.Unix(1767225600, 0)}
	o := newFakeOutbox(c, 3)
	r := newReceiver(t, c, func(call int) bool { return call == 1 })
	reg := prometheus.NewRegistry()
	w, err := NewWorker(o, Config{URL: r.srv.URL, Secret: secret, Now: c.Now, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, w, o, c, 5)
	o.failMarkDelivered = 1
	o.items = append(o.items, newFakeOutbox(c, 1).items[0])
	o.items[3].n.ID, o.items[3].n.IdempotencyKey = 99, "pay-0099"
	drain(t, w, o, c, 5)
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"offpay_bank_deliveries_total/delivered":    5, // 3, then 1 whose MarkDelivered failed, then it again
		"offpay_bank_deliveries_total/server_error": 1,
		"offpay_bank_outbox_errors_total":           1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if _, err := NewWorker(o, Config{URL: r.srv.URL, Secret: secret, Metrics: reg}); err == nil {
		t.Fatal("a second worker registered the same metrics without error")
	}
}

func TestUnreachableReceiverIsRetried(t *testing.T) {
	c := &clock{t: time.Unix(1767225600, 0)}
	o := newFakeOutbox(c, 2)
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	w := newTestWorker(t, o, c, url)
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, it := range o.items {
		if it.delivered || it.n.Attempts != 1 || it.lastErr == "" {
			t.Fatalf("unreachable receiver: delivered %v attempts %d lastErr %q", it.delivered, it.n.Attempts, it.lastErr)
		}
	}
}

func TestBackoffDoublesCapsAndJitters(t *testing.T) {
	w, err := NewWorker(newFakeOutbox(&clock{}, 0), Config{URL: "http://bank.example/hook", Secret: secret,
		MinBackoff: time.Second, MaxBackoff: time.Minute, Jitter: func() float64 { return 0.999999 }})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, hi := range want {
		got := w.Backoff(i + 1)
		if got > hi || got < hi-hi/1000 {
			t.Errorf("attempt %d: backoff %v, want about %v", i+1, got, hi)
		}
	}
	if got := w.Backoff(1 << 30); got > time.Minute {
		t.Errorf("huge attempt count: backoff %v above the cap", got)
	}
	w.cfg.Jitter = func() float64 { return 0 }
	if got := w.Backoff(3); got != 2*time.Second {
		t.Errorf("zero jitter: backoff %v, want half of 4s", got)
	}
}

func TestRunWakesOnKick(t *testing.T) {
	c := &clock{t: time.Unix(1767225600, 0)}
	o := newFakeOutbox(c, 0)
	r := newReceiver(t, c, nil)
	w, err := NewWorker(o, Config{URL: r.srv.URL, Secret: secret, Now: c.Now, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	time.Sleep(20 * time.Millisecond) // let Run reach its hour-long sleep
	o.mu.Lock()
	o.items = newFakeOutbox(c, 1).items
	o.mu.Unlock()
	w.Kick()
	deadline := time.Now().Add(5 * time.Second)
	for o.pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
	if o.pending() != 0 {
		t.Fatal("Kick did not wake Run")
	}
}

func TestNewWorkerRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "", Secret: secret},
		{URL: "ftp://bank/hook", Secret: secret},
		{URL: "https:///nohost", Secret: secret},
		{URL: "https://bank/hook", Secret: []byte("short")},
	} {
		if _, err := NewWorker(newFakeOutbox(&clock{}, 0), cfg); err == nil {
			t.Errorf("NewWorker(%q, %d-byte secret) accepted", cfg.URL, len(cfg.Secret))
		}
	}
}
