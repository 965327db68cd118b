package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/server"
)

// hostForTest starts a ledger with o's rate limits in a fresh data folder.
func hostForTest(t *testing.T, o hostOptions) *hostedLedger {
	t.Helper()
	dir := t.TempDir()
	if _, err := initLedgerData(dir, "EUR", nil); err != nil {
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
	p, err := readPolicy(write("ok.json", `{"person": {"per_payment_minor": 2000, "max_offline_days": 3}, "validity_days": 90}`))
	if err != nil {
		t.Fatal(err)
	}
	h := hostForTest(t, hostOptions{policy: p})
	got := h.svc.Policy()
	want := ledger.DefaultPolicy
	want.Person.PerPayment, want.Person.MaxOfflineDays, want.Validity = 2000, 3, 90*24*time.Hour
	if got != want {
		t.Fatalf("policy in force %+v, want %+v", got, want)
	}
	if _, err := readPolicy(write("typo.json", `{"person": {"per_paymnet_minor": 2000}}`)); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("misspelt field: %v", err)
	}
	bad, err := readPolicy(write("bad.json", `{"person": {"holding_minor": 100, "per_payment_minor": 200}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := hostOptions{policy: bad, listen: "127.0.0.1:0", dataDir: t.TempDir(), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := initLedgerData(o.dataDir, "EUR", nil); err != nil {
		t.Fatal(err)
	}
	if h, err := startLedger(context.Background(), o); err == nil {
		h.Close()
		t.Fatal("a per-payment limit above the holding limit was taken")
	}
}
