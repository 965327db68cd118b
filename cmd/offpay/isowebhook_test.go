package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/iso20022/isotest"
)

// TestServedLedgerWebhookCamt054: ledger serve's --webhook-format camt.054
// reaches the worker: a deposit arrives as a signed camt.054 that
// validates against the ISO 20022 schema.
func TestServedLedgerWebhookCamt054(t *testing.T) {
	secret := []byte("the ledger's webhook secret")
	var mu sync.Mutex
	var got []byte
	var ctype string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bank.VerifyRequest(secret, r.Header, body, time.Minute) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got, ctype = body, r.Header.Get("Content-Type")
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	h := hostForTest(t, hostOptions{webhook: recv.URL, hook: webhookOptions{secret: secret, format: bank.FormatCamt054}})
	ctx := context.Background()
	if _, err := h.svc.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Deposit(ctx, "alice", 1250, "d1"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the deposit's notification", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got != nil
	})
	mu.Lock()
	defer mu.Unlock()
	if ctype != "application/xml" || !strings.Contains(string(got), `<Amt Ccy="EUR">12.50</Amt>`) {
		t.Fatalf("Content-Type %q, body\n%s", ctype, got)
	}
	isotest.MustValidate(t, got)
}
