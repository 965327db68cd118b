package card_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/wallet"
)

// The wallet's other flows over a card, in process: see walletFlows.
func TestWalletFlowsOnCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca, aa := e.inProcess("alice")
	cb, _ := e.inProcess("bob")
	walletFlows(t, e, ca, cb, func() card.Transmitter { return direct{aa} })
}

// The same through pcscd and the virtual reader.
func TestPCSCWalletFlowsOnCard(t *testing.T) {
	p := pcsctest.Daemon(t)
	e := newEnv(t)
	ka, _, _ := e.reader(p, "alice", 0, 0)
	kb, _, _ := e.reader(p, "bob", 1, 0)
	walletFlows(t, e, login(t, ka), login(t, kb), func() card.Transmitter { return ka })
}

// walletFlows: a wallet over card ca pays one over cb; the payee's
// receipt is lost and the payment shown again gives it back (AcceptRetry)
// without a second credit; the payer redeems part of its purse; the
// wallet, closed and opened again in a new card session (the PIN
// verified again), finds its history (sealed by the card) and status; the
// ledger settles everything.
func walletFlows(t *testing.T, e *env, ca, cb *card.Card, again func() card.Transmitter) {
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, err := b.Request(1200, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.Accept(bundle)
	if err != nil {
		t.Fatal(err)
	}
	// The receipt never reached the payer: the payment is shown again.
	rc2, repeat, err := b.AcceptRetry(bundle)
	if err != nil || !repeat || string(rc2) != string(rc) {
		t.Fatalf("accept again: repeat %v, %v", repeat, err)
	}
	if err := a.Confirm(rc2); err != nil {
		t.Fatal(err)
	}
	if s := status(t, cb, e.now.Load()); s.Balance != 1200 {
		t.Fatalf("bob's card holds %d after the payment shown twice", s.Balance)
	}
	if err := a.Redeem(800); err != nil {
		t.Fatal(err)
	}
	ws, err := a.Status()
	if err != nil {
		t.Fatal(err)
	}
	if ws.Available != 5000-1200-800 || ws.PendingCount != 0 || !ws.CanPay {
		t.Fatalf("alice's wallet: %+v", ws)
	}
	hist := len(a.History())

	// Closed and opened again: a new session on the same card.
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	c2, err := card.Open(again(), setest.PIN)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := wallet.Open(c2, filepath.Join(e.root, "alice"), &wallet.Options{Ledger: e.led, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a2.History()); n != hist || n == 0 {
		t.Fatalf("history after reopening: %d records, had %d", n, hist)
	}
	if ws2, err := a2.Status(); err != nil || ws2.Available != ws.Available {
		t.Fatalf("status after reopening: %+v, %v", ws2, err)
	}
	for _, w := range []*wallet.Wallet{a2, b, a2, b} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []*wallet.Wallet{a2, b} {
		for _, r := range w.History() {
			if r.State != wallet.Settled {
				t.Fatalf("%s %s is %s after sync", r.Kind, r.ID, r.State)
			}
		}
	}
	e.led.Check()
}
