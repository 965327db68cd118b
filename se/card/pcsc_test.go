package card_test

import (
	"testing"

	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/wallet"
)

// reader plugs a card process for a new SE of name into slot i of the
// virtual reader and returns the host's connection and the card.
func (e *env) reader(p *pcsc.Context, name string, i int, dieAfter byte) (*pcsc.Card, *pcsctest.Card, string) {
	e.t.Helper()
	dir := e.seDir(name)
	proc := pcsctest.StartCard(e.t, dir, pcsctest.Readers[i], dieAfter)
	return pcsctest.Connect(e.t, p, pcsctest.Readers[i].Name), proc, dir
}

func login(t *testing.T, k *pcsc.Card) *card.Card {
	t.Helper()
	c, err := card.Open(k, setest.PIN)
	if err != nil {
		t.Fatalf("open the card: %v\n%s", err, pcsctest.Log())
	}
	return c
}

// Through pcscd, the vpcd driver and two card processes: a wallet pays
// another, each SE a card in a reader; both sync and the ledger settles.
func TestPCSCWalletPaysCardToCard(t *testing.T) {
	p := pcsctest.Daemon(t)
	e := newEnv(t)
	ka, _, _ := e.reader(p, "alice", 0, 0)
	kb, _, _ := e.reader(p, "bob", 1, 0)
	ca, cb := login(t, ka), login(t, kb)
	a, b := e.wallet("alice", ca), e.wallet("bob", cb)
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	transfer(t, a, b, 1200)
	for _, w := range []*wallet.Wallet{a, b, a, b} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if s := status(t, ca, e.now.Load()); s.Balance != 3800 {
		t.Fatalf("alice's card holds %d", s.Balance)
	}
	if s := status(t, cb, e.now.Load()); s.Balance != 1200 {
		t.Fatalf("bob's card holds %d", s.Balance)
	}
	for _, w := range []*wallet.Wallet{a, b} {
		for _, r := range w.History() {
			if r.State != wallet.Settled {
				t.Fatalf("%s %s is %s after sync", r.Kind, r.ID, r.State)
			}
		}
	}
	e.led.Check()
}
