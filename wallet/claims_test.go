package wallet_test

import (
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
)

func records(h []wallet.Record, kind wallet.Kind) []wallet.Record {
	var out []wallet.Record
	for _, r := range h {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// TestStandingCardAndSweep: a customer pays a merchant's standing card
// twice; the merchant's device (receive-only) accepts each bundle once;
// its sync sweeps the takings to the merchant account, which the history
// explains; the customer's payments settle.
func TestStandingCardAndSweep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.led.Merchants["shop"] = true
	m, a := e.wallet("shop"), e.wallet("alice")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	card, err := m.StandingRequest("Corner shop")
	if err != nil {
		t.Fatal(err)
	}
	b1, err := a.Pay(card, 300)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := a.Pay(card, 200)
	if err != nil {
		t.Fatalf("second payment to the same card: %v", err)
	}
	rc1, err := m.Accept(b1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Accept(b2); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Accept(b1); !errors.Is(err, se.ErrAlreadyAccepted) {
		t.Fatalf("bundle scanned twice: %v", err)
	}
	if err := a.Confirm(rc1); err != nil {
		t.Fatal(err)
	}
	// The merchant device only receives.
	s := st(t, m)
	if !s.ReceiveOnly || s.CanPay || s.Available != 500 {
		t.Fatalf("merchant status %+v", s)
	}
	req, _ := a.Request(10, "", time.Minute)
	if _, err := m.Pay(req, 0); !errors.Is(err, se.ErrReceiveOnly) {
		t.Fatalf("merchant pays: %v", err)
	}
	if err := m.Redeem(100); !errors.Is(err, se.ErrReceiveOnly) {
		t.Fatalf("merchant redeems: %v", err)
	}
	// The sync sweeps the takings once; a second sync sweeps nothing more.
	for i := 0; i < 2; i++ {
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s = st(t, m)
	sw := records(m.History(), wallet.KindSweep)
	if s.Available != 0 || s.Swept != 500 || len(sw) != 1 || sw[0].Amount != 500 || sw[0].State != wallet.Settled {
		t.Fatalf("after sweep: status %+v, sweep records %+v", s, sw)
	}
	if got := e.led.Accounts["shop"]; got != 1_000_000+500 {
		t.Fatalf("merchant account %d", got)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := state(a.History(), wallet.KindPay); len(got) != 2 || got[0] != wallet.Settled || got[1] != wallet.Settled {
		t.Fatalf("customer payments %v", got)
	}
	// The sweep record survives a restart.
	if got := records(e.reopen("shop").History(), wallet.KindSweep); len(got) != 1 {
		t.Fatalf("%d sweep records after reopen", len(got))
	}
}

// TestUnclaimedPaymentExpires: a bundle that never reaches its payee
// stays pending while it can be claimed; once the payee's log shows a
// sync a claim window later, the payee SE refuses it and the payer's
// history says expired, with the value back in the account.
func TestUnclaimedPaymentExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.wallet("alice"), e.wallet("bob")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, _ := b.Request(700, "", time.Hour)
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := state(a.History(), wallet.KindPay); got[0] != wallet.Pending {
		t.Fatalf("awaiting claim: %v", got)
	}
	e.now.Add(protocol.ClaimWindow)
	// The payee syncs twice: the first applies the late ledger time, the
	// second uploads the sync entry that shows it.
	for i := 0; i < 2; i++ {
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Accept(bundle); !errors.Is(err, se.ErrClaimExpired) {
		t.Fatalf("late claim: %v", err)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rs := records(a.History(), wallet.KindPay)
	if rs[0].State != wallet.Expired || rs[0].Reason != "unclaimed; value returned to your account" {
		t.Fatalf("expired payment shows %+v", rs[0])
	}
	if s := st(t, a); s.Pending != 0 || s.Available != 4300 {
		t.Fatalf("payer status %+v", s)
	}
	if got := e.led.Accounts["alice"]; got != 1_000_000-5000+700 {
		t.Fatalf("payer account %d", got)
	}
	if b := st(t, b); b.Available != 0 {
		t.Fatalf("payee credited %d", b.Available)
	}
}
