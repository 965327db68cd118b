package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/server"
)

// hostForTest starts a ledger with o's rate limits in a fresh data folder.
func hostForTest(t *testing.T, o hostOptions) *hostedLedger {
	t.Helper()
	dir := t.TempDir()
	if _, err := initLedgerData(dir, "EUR", nil, "", nil); err != nil {
		t.Fatal(err)
	}
	o.dataDir, o.listen = dir, "127.0.0.1:0"
	o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := startLedger(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// gets sends n GET /v1/trust requests and returns how many were rate limited.
func gets(t *testing.T, h *hostedLedger, n int) int {
	t.Helper()
	limited := 0
	for range n {
		resp, err := http.Get(h.url + "/v1/trust")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("GET /v1/trust: %s", resp.Status)
		}
	}
	return limited
}

// TestHostedLedgerHardened: the served ledger has the server package's timeouts, so
// a slow or idle client cannot hold a connection for ever.
func TestHostedLedgerHardened(t *testing.T) {
	h := hostForTest(t, hostOptions{})
	want := server.HTTPServer("", nil)
	s := h.srv
	if s.ReadHeaderTimeout != want.ReadHeaderTimeout || s.ReadTimeout != want.ReadTimeout ||
		s.WriteTimeout != want.WriteTimeout || s.IdleTimeout != want.IdleTimeout || s.MaxHeaderBytes != want.MaxHeaderBytes {
		t.Errorf("server limits (header %v, read %v, write %v, idle %v, header bytes %d), want server.HTTPServer's",
			s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
	if s.ReadTimeout == 0 || s.WriteTimeout == 0 || s.IdleTimeout == 0 {
		t.Error("a timeout is unset")
	}
}

// TestHostedLedgerClientRate: the client rate limit option reaches the server, the
// default lets a burst of 100 requests from one address through, and 0 turns it off.
func TestHostedLedgerClientRate(t *testing.T) {
	tight, err := rateLimit(0.001, clientBurstSeconds)
	if err != nil {
		t.Fatal(err)
	}
	tight.Burst = 3
	if n := gets(t, hostForTest(t, hostOptions{clientRate: tight}), 5); n != 2 {
		t.Errorf("burst of 3: %d of 5 requests limited, want 2", n)
	}
	def, err := rateLimit(defaultClientRate, clientBurstSeconds)
	if err != nil {
		t.Fatal(err)
	}
	if n := gets(t, hostForTest(t, hostOptions{clientRate: def}), 100); n != 0 {
		t.Errorf("default client rate: %d of 100 requests limited", n)
	}
	off, err := rateLimit(0, clientBurstSeconds)
	if err != nil {
		t.Fatal(err)
	}
	if n := gets(t, hostForTest(t, hostOptions{clientRate: off}), 300); n != 0 {
		t.Errorf("no client limit: %d of 300 requests limited", n)
	}
}

func TestRateLimitFlag(t *testing.T) {
	for _, c := range []struct {
		rate, burstSeconds float64
		want               server.RateLimit
	}{
		{2, deviceBurstSeconds, server.RateLimit{PerSecond: 2, Burst: 20}},
		{20, clientBurstSeconds, server.RateLimit{PerSecond: 20, Burst: 100}},
		{0.05, 5, server.RateLimit{PerSecond: 0.05, Burst: 1}},
		{0, 5, server.RateLimit{Disabled: true}},
	} {
		if got, err := rateLimit(c.rate, c.burstSeconds); err != nil || got != c.want {
			t.Errorf("rateLimit(%v, %v) = %+v, %v, want %+v", c.rate, c.burstSeconds, got, err, c.want)
		}
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1), 2e6} {
		if _, err := rateLimit(bad, 5); err == nil || !strings.Contains(err.Error(), "rate") {
			t.Errorf("rateLimit(%v): %v, want an error", bad, err)
		}
	}
}

// TestPolicyFile: `ledger serve --policy` overrides the limits it names and
// keeps the defaults of the others; a misspelt field or an inconsistent
// policy stops the ledger from starting.
func TestPolicyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := readPolicy(write("ok.json", `{"person": {"per_payment_minor": 2000, "max_offline_days": 3}, "validity_days": 90, "max_issued_minor": 1000000}`))
	if err != nil {
		t.Fatal(err)
	}
	h := hostForTest(t, hostOptions{policy: p})
	got := h.svc.Policy()
	want := ledger.DefaultPolicy
	want.Person.PerPayment, want.Person.MaxOfflineDays, want.Validity, want.MaxIssued = 2000, 3, 90*24*time.Hour, 1000000
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("policy in force %+v, want %+v", got, want)
	}
	for _, bad := range []string{"0", "-1", "4611686018427387905"} {
		if _, err := readPolicy(write("issued.json", `{"max_issued_minor": `+bad+`}`)); err == nil || !strings.Contains(err.Error(), "max_issued_minor") {
			t.Fatalf("max_issued_minor %s: %v", bad, err)
		}
	}
	if _, err := readPolicy(write("typo.json", `{"person": {"per_paymnet_minor": 2000}}`)); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("misspelt field: %v", err)
	}
	bad, err := readPolicy(write("bad.json", `{"person": {"holding_minor": 100, "per_payment_minor": 200}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := hostOptions{policy: bad, listen: "127.0.0.1:0", dataDir: t.TempDir(), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := initLedgerData(o.dataDir, "EUR", nil, "", nil); err != nil {
		t.Fatal(err)
	}
	if h, err := startLedger(context.Background(), o); err == nil {
		h.Close()
		t.Fatal("a per-payment limit above the holding limit was taken")
	}
}

// TestTrustedProxyFlag: --trusted-proxy takes addresses and prefixes,
// repeated or comma-separated, and reaches the server: behind a trusted
// proxy on loopback each forwarded client has a budget of its own, while
// the same header from an untrusted peer is ignored.
func TestTrustedProxyFlag(t *testing.T) {
	var p prefixList
	for _, v := range []string{"10.0.0.0/8, 192.0.2.7", "2001:db8::1/32", "::ffff:198.51.100.1"} {
		if err := p.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.String(); got != "10.0.0.0/8,192.0.2.7/32,2001:db8::/32,198.51.100.1/32" {
		t.Fatalf("prefixes %s", got)
	}
	if err := p.Set("proxy.example"); err == nil {
		t.Fatal("a host name was taken")
	}
	tight := server.RateLimit{PerSecond: 0.001, Burst: 2}
	get := func(h *hostedLedger, client string) int {
		req, _ := http.NewRequest("GET", h.url+"/v1/trust", nil)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var loop prefixList
	if err := loop.Set("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	behind := hostForTest(t, hostOptions{clientRate: tight, trustedProxies: loop})
	direct := hostForTest(t, hostOptions{clientRate: tight})
	var codes []int
	for _, c := range []string{"198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.2"} {
		codes = append(codes, get(behind, c))
	}
	for _, c := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		codes = append(codes, get(direct, c))
	}
	if fmt.Sprint(codes) != "[200 200 429 200 200 200 200 429]" {
		t.Fatalf("answers %v", codes)
	}
}

// TestHostedLedgerErrorsAreJSON: the served ledger answers even requests
// Go's HTTP server refuses by itself in the API's JSON.
func TestHostedLedgerErrorsAreJSON(t *testing.T) {
	h := hostForTest(t, hostOptions{})
	c, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /v1/trust HTTP/1.1\r\n\r\n") // no Host
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(b), `"code":"invalid"`) {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

// TestServedLedgerAssesses: a serving ledger does its deadline work by
// itself: a payment to a revoked payee returns to its payer once the
// claim window has passed, with nobody calling anything.
func TestServedLedgerAssesses(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().Unix())
	h := hostForTest(t, hostOptions{clock: func() time.Time { return time.Unix(now.Load(), 0) }, assessEvery: 10 * time.Millisecond})
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		if _, err := h.svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.svc.Deposit(ctx, "alice", 100, "d1"); err != nil {
		t.Fatal(err)
	}
	a, b := ledgertest.NewDevice("as-a", "EUR"), ledgertest.NewDevice("as-b", "EUR")
	for d, acct := range map[*ledgertest.Device]string{a: "alice", b: "bob"} {
		en, err := h.svc.Enrol(ctx, d.EnrolmentAt(acct, uint64(now.Load())))
		if err != nil {
			t.Fatal(err)
		}
		d.Cert = en.Device
	}
	l, err := h.svc.Reserve(ctx, a.Reserve(50, 1))
	if err != nil {
		t.Fatal(err)
	}
	a.ApplyLoad(l)
	a.Time = uint64(now.Load())
	a.Pay(b.ID, 30)
	if _, err := h.svc.Sync(ctx, a.UploadAll()); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Revoke(ctx, b.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(protocol.ClaimWindow) + 60)
	deadline := time.Now().Add(10 * time.Second)
	for {
		acct, err := h.svc.Account(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if acct.Balance == 80 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refund after the claim window: alice has %d", acct.Balance)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServedLedgerBankMetrics: the served ledger's /metrics carries the
// bank worker's and the outbox's metrics, and a receiver holding another
// secret (it answers 401) shows there and in the report, not only as a
// log line.
func TestServedLedgerBankMetrics(t *testing.T) {
	var mu sync.Mutex
	secret := []byte("the bank's secret, not the ledger's")
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if bank.Verify(secret, r.Header.Get(bank.SignatureHeader), body, time.Minute) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	h := hostForTest(t, hostOptions{webhook: recv.URL, hook: webhookOptions{secret: []byte("the ledger's webhook secret")}})
	ctx := context.Background()
	if _, err := h.svc.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Deposit(ctx, "alice", 100, "d1"); err != nil {
		t.Fatal(err)
	}
	metric := func(line string) bool {
		resp, err := http.Get(h.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "\n"+line+"\n")
	}
	waitUntil(t, `offpay_bank_deliveries_total{result="unauthorized"}`, func() bool {
		return metric(`offpay_bank_deliveries_total{result="unauthorized"} 1`)
	})
	for _, line := range []string{`offpay_bank_receiver_up 0`, `offpay_bank_outbox_notifications{state="pending"} 1`,
		`offpay_bank_outbox_notifications{state="dead"} 0`} {
		if !metric(line) {
			t.Errorf("/metrics has no line %q", line)
		}
	}
	// The worker counts a failed delivery before it records the error in
	// the outbox: under load the report can come between the two.
	var rep *ledger.Report
	waitUntil(t, "the refusal recorded in the outbox", func() bool {
		var err error
		if rep, err = h.svc.Report(ctx); err != nil {
			t.Fatal(err)
		}
		return strings.Contains(rep.Outbox.LastError, "webhook secret")
	})
	if rep.Outbox.Pending != 1 {
		t.Fatalf("report's outbox %+v", rep.Outbox)
	}
	mu.Lock()
	secret = []byte("the ledger's webhook secret")
	mu.Unlock()
	waitUntil(t, "delivered", func() bool { return metric(`offpay_bank_deliveries_total{result="delivered"} 1`) })
	// The worker counts a delivery before it records it in the outbox:
	// under load a scrape can come between the two.
	waitUntil(t, "recorded", func() bool { return metric(`offpay_bank_outbox_notifications{state="pending"} 0`) })
	if !metric(`offpay_bank_receiver_up 1`) {
		t.Fatal("after the delivery the metrics still say otherwise")
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("30 s without %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReplicatedLedgerMetrics: ledger serve --replicate reports on
// /metrics when it last shipped and what it has not shipped yet. (And
// Litestream's import of net/http/pprof, which registers on Go's default
// mux, exposes nothing: the ledger serves its own mux.)
func TestReplicatedLedgerMetrics(t *testing.T) {
	rdir := filepath.Join(t.TempDir(), "replica")
	h := hostForTest(t, hostOptions{replicate: rdir, replicateEvery: 20 * time.Millisecond})
	ctx := context.Background()
	if resp, err := http.Get(h.url + "/debug/pprof/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /debug/pprof/: %v %v", resp, err)
	}
	if _, err := h.svc.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Deposit(ctx, "alice", 700, "d1"); err != nil {
		t.Fatal(err)
	}
	metric := func(name string) (float64, bool) {
		resp, err := http.Get(h.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var v float64
			if _, err := fmt.Sscanf(sc.Text(), name+" %g", &v); err == nil {
				return v, true
			}
		}
		return 0, false
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		shipped, ok1 := metric("offpay_replica_last_shipped_timestamp_seconds")
		pending, ok2 := metric("offpay_replica_pending_transactions")
		if !ok1 || !ok2 {
			t.Fatalf("replica metrics missing")
		}
		if shipped > float64(time.Now().Add(-time.Minute).Unix()) && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica metrics: shipped at %v, %v pending", shipped, pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
