package card_test

import (
	"testing"

	"github.com/offpay/offpay/wallet"
)

// A wallet whose SE is a card pays one whose SE is another card, through
// the APDU interface alone; both sync and the ledger settles.
func TestWalletPaysCardToCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca, _ := e.inProcess("alice")
	cb, _ := e.inProcess("bob")
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	transfer(t, a, b, 1200)
	transfer(t, b, a, 200)
	if s := status(t, ca, e.now.Load()); s.Balance != 5000-1200+200 || s.PendingCount != 0 {
		t.Fatalf("alice's card: balance %d pending %d", s.Balance, s.PendingCount)
	}
	if s := status(t, cb, e.now.Load()); s.Balance != 1000 {
		t.Fatalf("bob's card: balance %d", s.Balance)
	}
	for _, w := range []*wallet.Wallet{a, b, a, b} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []*wallet.Wallet{a, b} {
		for _, r := range w.History() {
			if r.State != wallet.Settled {
				t.Fatalf("%s %s is %s after sync", r.Kind, r.ID, r.State)
			}
		}
	}
	e.led.Check()
	if ca.RoundTrips() == 0 {
		t.Fatal("no APDU counted")
	}
}
