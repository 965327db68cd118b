package card_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/wallet"
)

// A shop whose SE is a card: its standing request, paid twice by a
// customer whose SE is another card (the same QR scanned twice is refused),
// a refund of part of a sale, the sales list; all through APDUs, then
// settled.
func TestMerchantCardStandingRequestAndRefund(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ca, _ := e.inProcess("alice")
	cs, _ := e.inProcess("shop")
	merchantFlow(t, e, ca, cs)
}

// The same through pcscd and the virtual reader: each card a process in a
// slot of its own.
func TestPCSCMerchantCardStandingRequestAndRefund(t *testing.T) {
	p := pcsctest.Daemon(t)
	e := newEnv(t)
	ka, _, _ := e.reader(p, "alice", 0, 0)
	ks, _, _ := e.reader(p, "shop", 1, 0)
	merchantFlow(t, e, login(t, ka), login(t, ks))
}

func merchantFlow(t *testing.T, e *env, ca, cs *card.Card) {
	a, shop := e.wallet("alice", ca), e.account("shop", true, cs)
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	stand, err := shop.StandingRequest()
	if err != nil {
		t.Fatal(err)
	}
	var sale protocol.PaymentBundle
	for i, amount := range []uint64{1200, 300} {
		b, err := a.Pay(stand, amount)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := shop.Accept(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Confirm(rc); err != nil {
			t.Fatal(err)
		}
		if _, err := shop.Accept(b); !errors.Is(err, se.ErrAlreadyAccepted) {
			t.Fatalf("the same payment scanned again: %v", err)
		}
		if i == 0 {
			if err := protocol.OpenAs(b, &sale); err != nil {
				t.Fatal(err)
			}
		}
	}
	sales, err := shop.Sales()
	if err != nil || len(sales) != 2 || sales[0].Amount+sales[1].Amount != 1500 {
		t.Fatalf("sales %+v, %v", sales, err)
	}
	refund, repeat, err := shop.Refund(sale.Payment.ID(), 500)
	if err != nil || repeat {
		t.Fatalf("refund: %v (repeat %v)", err, repeat)
	}
	if _, err := a.Accept(refund); err != nil {
		t.Fatal(err)
	}
	if _, _, err := shop.Refund(sale.Payment.ID(), 600); !errors.Is(err, se.ErrAlreadyRefunded) {
		t.Fatalf("a second refund of another amount: %v", err)
	}
	if s := status(t, ca, e.now.Load()); s.Balance != 5000-1500+500 {
		t.Fatalf("alice's card holds %d", s.Balance)
	}
	for _, w := range []*wallet.Wallet{a, shop, a, shop} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.led.Check()
}
