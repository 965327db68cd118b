package wallet_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
)

func record(t *testing.T, w *wallet.Wallet, id string) wallet.Record {
	t.Helper()
	for _, r := range w.History() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no record %s", id)
	return wallet.Record{}
}

// TestRefund: a shop's wallet refunds part of a sale; alice's wallet
// accepts it like a payment; both histories show a refund record naming
// the sale, and each sale's record names its refund. Refunding again
// shows the same refund.
func TestRefund(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, shop := e.wallet("alice"), e.merchant("shop")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, err := shop.Request(1200, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shop.Accept(bundle); err != nil {
		t.Fatal(err)
	}
	var sale protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &sale); err != nil {
		t.Fatal(err)
	}
	sid := sale.Payment.ID()
	found, err := shop.FindSale(sid.String()[:8])
	if err != nil || found.ID != sid || found.Amount != 1200 || found.Payer != a.SE().Certificate().ID() {
		t.Fatalf("FindSale: %+v, %v", found, err)
	}
	before := st(t, shop)
	wire, repeat, err := shop.Refund(sid, 500)
	if err != nil || repeat {
		t.Fatalf("refund: %v (repeat %v)", err, repeat)
	}
	if after := st(t, shop); after.Available != before.Available || after.Pending != 0 {
		t.Fatalf("the refund touched the shop's purse: %+v", after)
	}
	var rf protocol.PaymentBundle
	if err := protocol.OpenAs(wire, &rf); err != nil {
		t.Fatal(err)
	}
	rid := rf.Payment.ID().String()
	if r := record(t, shop, rid); r.Kind != wallet.KindRefund || r.Sale != sid.String() || r.Amount != 500 || r.State != wallet.Pending ||
		r.CounterpartyAccount != "alice" {
		t.Fatalf("shop's refund record %+v", r)
	}
	if r := record(t, shop, sid.String()); r.Refund != rid {
		t.Fatalf("shop's sale record %+v", r)
	}
	aBefore := st(t, a)
	receipt, err := a.Accept(wire)
	if err != nil {
		t.Fatal(err)
	}
	if s := st(t, a); s.Available != aBefore.Available+500 {
		t.Fatalf("alice after the refund: %+v", s)
	}
	if r := record(t, a, rid); r.Kind != wallet.KindRefunded || r.Sale != sid.String() || r.State != wallet.Confirmed || len(r.Receipt) == 0 {
		t.Fatalf("alice's refund record %+v", r)
	}
	if r := record(t, a, sid.String()); r.Refund != rid {
		t.Fatalf("alice's payment record %+v", r)
	}
	if err := shop.Confirm(receipt); err != nil {
		t.Fatal(err)
	}
	if r := record(t, shop, rid); r.State != wallet.Confirmed {
		t.Fatalf("shop's refund after the receipt: %+v", r)
	}
	// Again: the same refund, nothing new; another amount is refused.
	again, repeat, err := shop.Refund(sid, 0)
	if err != nil || !repeat || !bytes.Equal(again, wire) {
		t.Fatalf("refunding again: %v (repeat %v, same %v)", err, repeat, bytes.Equal(again, wire))
	}
	if _, _, err := shop.Refund(sid, 100); !errors.Is(err, se.ErrAlreadyRefunded) {
		t.Fatalf("another amount: %v", err)
	}
	// Alice's wallet takes the refund once.
	if _, err := a.Accept(wire); !errors.Is(err, se.ErrAlreadyAccepted) {
		t.Fatalf("the refund twice: %v", err)
	}
	// At settlement the shop's account pays the refund, once; both records
	// settle.
	for _, w := range []*wallet.Wallet{shop, a, shop, a} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if bal := e.led.Balance("shop"); bal != startBalance+1200-500 {
		t.Fatalf("shop's account %d, want %d + the sale - the refund", bal, startBalance)
	}
	e.led.Check()
	for _, w := range []*wallet.Wallet{shop, a} {
		if r := record(t, w, rid); r.State != wallet.Settled {
			t.Fatalf("refund record after sync: %+v", r)
		}
	}
}

// TestFindSale: what the shop cannot refund, and why.
func TestFindSale(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, shop := e.wallet("alice"), e.merchant("shop")
	if err := a.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	req, err := shop.Request(700, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shop.Accept(bundle); err != nil {
		t.Fatal(err)
	}
	var sale protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &sale); err != nil {
		t.Fatal(err)
	}
	sid := sale.Payment.ID().String()
	for _, id := range []string{"", "12345", "zzzzzzzz", "00000000"} {
		if _, err := shop.FindSale(id); !errors.Is(err, se.ErrUnknownSale) {
			t.Fatalf("FindSale(%q): %v", id, err)
		}
	}
	// Alice's own payment is no sale of hers.
	if _, err := a.FindSale(sid); !errors.Is(err, se.ErrUnknownSale) {
		t.Fatalf("alice refunding her own payment: %v", err)
	}
	// Three days of ledger time later, the shop's SE has forgotten it.
	e.now.Add(protocol.RefundWindow)
	if err := shop.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = shop.FindSale(sid)
	if !errors.Is(err, se.ErrUnknownSale) || !bytes.Contains([]byte(err.Error()), []byte("too old to refund")) {
		t.Fatalf("a sale past the refund window: %v", err)
	}
}
