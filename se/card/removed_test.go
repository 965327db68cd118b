package card_test

import (
	"errors"
	"github.com/offpay/offpay/se/card"
	"testing"
	"time"

	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/wallet"
)

// The payer's card leaves the reader after it signed the payment and
// before the answer reached the wallet. Put back, it gives the same
// payment again (not a second one); the payee takes it and, after both
// sync, the ledger has every cent where it belongs.
func TestPCSCCardRemovedMidPayment(t *testing.T) {
	p := pcsctest.Daemon(t)
	e := newEnv(t)
	ka, proc, dirA := e.reader(p, "alice", 0, apdu.InsPay)
	kb, _, _ := e.reader(p, "bob", 1, 0)
	ca, cb := login(t, ka), login(t, kb)
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, err := b.Request(1200, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Pay(req, 0)
	if !pcsc.Gone(err) && !errors.Is(err, card.ErrNoAnswer) {
		t.Fatalf("pay while the card leaves: %v", err)
	}
	t.Logf("pay while the card leaves: %v", err)
	if !proc.Exited(5 * time.Second) {
		t.Fatal("the card process did not leave")
	}
	if _, err := ca.Status(e.now.Load()); err == nil {
		t.Fatal("a card out of the reader answered")
	} else {
		t.Logf("status while out: %v", err)
	}
	// Put back (a new card process over the same SE) and log in again.
	pcsctest.StartCard(t, dirA, pcsctest.Readers[0], 0)
	end := time.Now().Add(10 * time.Second)
	for {
		err := ca.Resume(setest.PIN)
		if err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("resume: %v\n%s", err, pcsctest.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s := status(t, ca, e.now.Load())
	if s.Balance != 3800 || s.PendingCount != 1 || s.PendingValue != 1200 {
		t.Fatalf("after the card came back: balance %d, pending %d of %d", s.Balance, s.PendingCount, s.PendingValue)
	}
	bundle, repeat, err := a.PayRetry(req, 0, nil)
	if err != nil || !repeat {
		t.Fatalf("pay again: repeat %v, %v", repeat, err)
	}
	rcpt, err := b.Accept(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Confirm(rcpt); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*wallet.Wallet{a, b, a, b} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s := status(t, ca, e.now.Load()); s.Balance != 3800 || s.PendingCount != 0 {
		t.Fatalf("alice's card: balance %d pending %d", s.Balance, s.PendingCount)
	}
	if s := status(t, cb, e.now.Load()); s.Balance != 1200 {
		t.Fatalf("bob's card: balance %d", s.Balance)
	}
	if got := e.led.Balance("alice"); got != startBalance-5000 {
		t.Fatalf("alice's account %d", got)
	}
	e.led.Check()
}
