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
	m, a := e.merchant("shop"), e.wallet("alice")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	card, err := m.StandingRequest()
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
	req, _ := a.Request(10, time.Minute)
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
	if got := e.led.Balance("shop"); got != startBalance+500 {
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
	req, _ := b.Request(700, time.Hour)
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
	if got := e.led.Balance("alice"); got != startBalance-5000+700 {
		t.Fatalf("payer account %d", got)
	}
	if b := st(t, b); b.Available != 0 {
		t.Fatalf("payee credited %d", b.Available)
	}
}

// TestRefusedPaymentReturnsAtItsDeadline: a payment its payee refused (or
// never saw) stays pending, through both sides' syncs, until its claim
// deadline (Record.ClaimDeadline); from then on it returns to the payer's
// account once the payee's log shows the ledger that time, or, with the
// payee revoked, at the ledger's deadline run (Assess), and the payer's
// next sync shows it expired. What the command line tells a payer whose
// payment was refused is this.
func TestRefusedPaymentReturnsAtItsDeadline(t *testing.T) {
	t.Parallel()
	for _, revoked := range []bool{false, true} {
		e := newEnv(t)
		a, b := e.wallet("alice"), e.wallet("bob")
		if err := a.Reserve(ctx, 5000); err != nil {
			t.Fatal(err)
		}
		req, _ := b.Request(700, time.Hour)
		if _, err := a.Pay(req, 0); err != nil { // the payee never takes it
			t.Fatal(err)
		}
		pay := records(a.History(), wallet.KindPay)[0]
		deadline := pay.ClaimDeadline()
		if want := time.Unix(int64(e.now.Load()+protocol.ClaimWindow), 0); !deadline.Equal(want) {
			t.Fatalf("deadline %v, want %v", deadline, want)
		}
		syncAll := func() {
			t.Helper()
			if !revoked {
				for range 2 { // the payee learns the ledger's time, then shows it
					if err := b.Sync(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := e.led.Assess(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if revoked {
			if err := b.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if err := e.led.Revoke(ctx, b.SE().Certificate().ID(), "lost"); err != nil {
				t.Fatal(err)
			}
		}
		for _, at := range []uint64{e.now.Load(), uint64(deadline.Unix()) - 1} {
			e.now.Store(at)
			syncAll()
			if r := records(a.History(), wallet.KindPay)[0]; r.State != wallet.Pending {
				t.Fatalf("revoked %v: at %v, before the deadline %v: %s", revoked, time.Unix(int64(at), 0), deadline, r.State)
			}
		}
		if got := e.led.Balance("alice"); got != startBalance-5000 {
			t.Fatalf("revoked %v: account %d before the deadline", revoked, got)
		}
		e.now.Store(uint64(deadline.Unix()))
		syncAll()
		if r := records(a.History(), wallet.KindPay)[0]; r.State != wallet.Expired {
			t.Fatalf("revoked %v: at the deadline: %s", revoked, r.State)
		}
		if got := e.led.Balance("alice"); got != startBalance-5000+700 {
			t.Fatalf("revoked %v: account %d after the deadline", revoked, got)
		}
		if s := st(t, a); s.Pending != 0 || s.Available != 4300 {
			t.Fatalf("revoked %v: payer %+v", revoked, s)
		}
		e.led.Check()
	}
}
