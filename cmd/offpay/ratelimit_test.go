package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/offpay/offpay/ledgerclient"
)

// TestRateLimitedIsTryAgainLater: a wallet whose ledger answers 429 (too
// many requests) exits 3, "run the command again later", not 12
// (refused); nothing was done, and the same command succeeds once the
// ledger serves it again. The ledger is real; a loopback proxy in front of
// it answers 429 while limited is set, as the ledger's own rate limiter
// does (JSON error "rate_limited", Retry-After).
func TestRateLimitedIsTryAgainLater(t *testing.T) {
	h := hostForTest(t, hostOptions{})
	admin, err := ledgerclient.New(h.url, ledgerclient.Options{AdminToken: h.token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Deposit(ctx, "alice", 10000, "d-1"); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(h.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var limited atomic.Bool
	var answered429 atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limited.Load() {
			answered429.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"code":"rate_limited","message":"too many requests; retry later"}}` + "\n"))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer ts.Close()

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	if err := os.WriteFile(tokenFile, []byte(h.token), 0o600); err != nil {
		t.Fatal(err)
	}
	offpay := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string {
			switch k {
			case pinEnv:
				return "123456"
			case testFastKDFEnv:
				return "1"
			}
			return ""
		}}
		return run(e, args), out.String(), errOut.String()
	}
	wallet := filepath.Join(dir, "W")
	initArgs := func(d string) []string {
		return []string{"wallet", "init", "--dir", d, "--ledger", ts.URL, "--account", "alice",
			"--admin-token-file", tokenFile}
	}
	if code, _, stderr := offpay(initArgs(wallet)...); code != 0 {
		t.Fatalf("wallet init: exit %d: %s", code, stderr)
	}

	limited.Store(true)
	for _, args := range [][]string{
		{"wallet", "reserve", "--dir", wallet, "10.00"},
		{"wallet", "sync", "--dir", wallet},
		initArgs(filepath.Join(dir, "W2")),
	} {
		code, _, stderr := offpay(args...)
		if code != exitUnreachable || !strings.Contains(stderr, "rate limited") || !strings.Contains(stderr, "again later") {
			t.Errorf("%s while rate limited: exit %d (want %d): %s", strings.Join(args[:2], " "), code, exitUnreachable, stderr)
		}
	}
	if answered429.Load() == 0 {
		t.Fatal("the proxy answered no 429")
	}

	limited.Store(false)
	if code, _, stderr := offpay("wallet", "reserve", "--dir", wallet, "10.00"); code != 0 {
		t.Fatalf("reserve once served again: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr := offpay("wallet", "balance", "--dir", wallet, "--json"); code != 0 || !strings.Contains(stdout, `"balance_minor": 1000,`) {
		t.Fatalf("balance after the refused and the served reserve: exit %d: %s %s", code, stdout, stderr)
	}
	if a, err := admin.Account(ctx, "alice"); err != nil || a.Balance != 9000 {
		t.Fatalf("account after one reserve of 10.00: %+v, %v", a, err)
	}
}
