package posrisk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
)

func bundle(amount uint64, issuer protocol.KeyID) *protocol.PaymentBundle {
	var b protocol.PaymentBundle
	b.Payment.Amount = amount
	b.Cert.Issuer = issuer
	return &b
}

// The caps that need no history: each refuses with its reason, wraps
// ErrRefused, and a payment within every cap passes. (The unsettled cap,
// which reads the wallet's history, is tested end to end by
// cmd/offpay's pos_risk script and the browser till's pos_refund spec.)
func TestCheck(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var good, bad protocol.KeyID
	good[0], bad[0] = 1, 2
	s := &Settings{MaxPayment: 500, MaxOffline: time.Hour, Issuers: map[protocol.KeyID]bool{good: true}, Currency: "EUR"}
	for _, c := range []struct {
		name    string
		b       *protocol.PaymentBundle
		last    time.Time
		want    string
		offline bool
	}{
		{"within every cap", bundle(500, good), now.Add(-time.Minute), "", false},
		{"above the per-payment cap", bundle(501, good), now, "5.01 EUR is above the per-payment cap of 5.00 EUR", false},
		{"an issuer not accepted", bundle(100, bad), now, "not accepted here", false},
		{"offline too long", bundle(100, good), now.Add(-61 * time.Minute), "the ledger was last reached at 2026-12-06T10:59:00Z, the cap is 1h0m0s", true},
	} {
		err := s.Check(nil, c.b, now, c.last)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrRefused) || errors.Is(err, ErrOffline) != c.offline {
			t.Errorf("%s: got %v, want %q (offline %v)", c.name, err, c.want, c.offline)
		}
	}
	var none Settings
	if err := none.Check(nil, bundle(1<<40, bad), now, time.Time{}); err != nil {
		t.Errorf("no caps: %v", err)
	}
}
