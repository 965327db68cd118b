package wallet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

// A request paid online: from the account at once, the purse untouched,
// once; the payee learns it from the ledger; both histories show it.
func TestPayOnline(t *testing.T) {
	e := newEnv(t)
	alice, shop := e.wallet("alice"), e.merchant("shop")
	if err := alice.Reserve(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	req, err := shop.Request(2500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var shown wallet.Payee
	rc, repeat, err := alice.PayOnline(ctx, req, 0, func(p wallet.Payee) error { shown = p; return nil })
	if err != nil || repeat {
		t.Fatalf("pay online: %v (repeat %v)", err, repeat)
	}
	if shown.Account != "shop" || shown.Amount != 2500 {
		t.Fatalf("the payer was shown %+v", shown)
	}
	if a, s := e.led.Balance("alice"), e.led.Balance("shop"); a != startBalance-1000-2500 || s != startBalance+2500 {
		t.Fatalf("alice %d, shop %d", a, s)
	}
	if st(t, alice).SE.Balance != 1000 {
		t.Fatal("an online payment touched the purse")
	}
	again, repeat, err := alice.PayOnline(ctx, req, 0, nil)
	if err != nil || !repeat || again.Payment != rc.Payment {
		t.Fatalf("retry: %v (repeat %v)", err, repeat)
	}
	if e.led.Balance("alice") != startBalance-1000-2500 {
		t.Fatal("a retry debited again")
	}
	// The same request paid again from the purse (the person taps "pay"
	// offline after the online payment went through): refused, nothing
	// paid twice; the payee's SE would have accepted it.
	var s *se.Error
	if _, err := alice.Pay(req, 0); !errors.As(err, &s) || s.Code != se.CodeNonceUsed {
		t.Fatalf("paying from the purse a request paid online: %v", err)
	}
	if st(t, alice).SE.Balance != 1000 || st(t, alice).SE.PendingCount != 0 {
		t.Fatal("the purse paid a request already paid online")
	}
	got, err := shop.OnlineReceipt(ctx, req)
	if err != nil || got.Payment != rc.Payment {
		t.Fatalf("the shop's lookup: %v", err)
	}
	for _, c := range []struct {
		w    *wallet.Wallet
		kind wallet.Kind
	}{{alice, wallet.KindOnlinePay}, {shop, wallet.KindOnlineReceive}} {
		h := c.w.History()
		if r := h[len(h)-1]; r.Kind != c.kind || r.Amount != 2500 || r.State != wallet.Settled || r.ID != rc.Payment.String() {
			t.Fatalf("history: %+v", r)
		}
	}
	// Someone else's request cannot be looked up as one's own.
	if _, err := alice.OnlineReceipt(ctx, req); err == nil {
		t.Fatal("alice looked up the shop's request as hers")
	}
	e.led.Check()
}

// The SE refuses to pay online what it must not: a request it paid from
// the purse, the standing request, an expired request, and (a till) any.
func TestPayOnlineRefusedBySE(t *testing.T) {
	e := newEnv(t)
	alice, shop := e.wallet("alice"), e.merchant("shop")
	if err := alice.Reserve(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	code := func(err error) se.Code {
		var s *se.Error
		if !errors.As(err, &s) {
			t.Fatalf("not an SE refusal: %v", err)
		}
		return s.Code
	}
	paid, _ := shop.Request(300, time.Minute)
	if _, err := alice.Pay(paid, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := alice.PayOnline(ctx, paid, 0, nil); code(err) != se.CodeNonceUsed {
		t.Fatalf("a request paid from the purse, again online: %v", err)
	}
	card, _ := shop.StandingRequest()
	if _, _, err := alice.PayOnline(ctx, card, 100, nil); code(err) != se.CodeBadRequest {
		t.Fatalf("the standing request online: %v", err)
	}
	short, _ := shop.Request(300, time.Second)
	e.now.Add(2)
	if _, _, err := alice.PayOnline(ctx, short, 0, nil); code(err) != se.CodeExpired {
		t.Fatalf("an expired request: %v", err)
	}
	bob := e.wallet("bob")
	req, _ := bob.Request(100, time.Minute)
	if _, _, err := shop.PayOnline(ctx, req, 0, nil); code(err) != se.CodeReceiveOnly {
		t.Fatalf("a till paying online: %v", err)
	}
	if e.led.Balance("alice") != startBalance-1000 || e.led.Balance("bob") != startBalance {
		t.Fatal("a refused online payment moved money")
	}
}

// lying is a ledger that answers online payments with receipts it makes
// up: a payee's wallet (a till) must not show them as paid.
type lying struct {
	*wallettest.Ledger
	forge func(rc *protocol.OnlineReceipt) *protocol.OnlineReceipt
}

func (l lying) OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error) {
	rc := &protocol.OnlineReceipt{Version: protocol.Version, Payee: payee, Nonce: nonce, Amount: 2500, Currency: "EUR", Time: 1}
	return l.forge(rc), nil
}

func TestForgedOnlineReceiptRefused(t *testing.T) {
	e := newEnv(t)
	shop := e.merchant("shop")
	req, err := shop.Request(2500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, issuer := e.led.Service.Trust()
	other := prototest.NewPKI("not the ledger")
	issuerKey := func() protocol.Signer { return other.IssuerKey }
	for name, forge := range map[string]func(rc *protocol.OnlineReceipt) *protocol.OnlineReceipt{
		"signed by another key under the issuer's name": func(rc *protocol.OnlineReceipt) *protocol.OnlineReceipt {
			rc.Signer = issuer.ID()
			_ = rc.Sign(issuerKey())
			return rc
		},
		"signed by another issuer": func(rc *protocol.OnlineReceipt) *protocol.OnlineReceipt {
			rc.Signer = other.Issuer.ID()
			_ = rc.Sign(issuerKey())
			return rc
		},
		"unsigned": func(rc *protocol.OnlineReceipt) *protocol.OnlineReceipt {
			rc.Signer = issuer.ID()
			return rc
		},
		"for less than asked": func(rc *protocol.OnlineReceipt) *protocol.OnlineReceipt {
			rc.Amount, rc.Signer = 1, other.Issuer.ID()
			return rc
		},
	} {
		w, err := wallet.Open(shop.SE(), e.dir("shop"), &wallet.Options{Ledger: lying{e.led, forge}, Clock: e.clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.OnlineReceipt(ctx, req); !errors.Is(err, wallet.ErrBadOnlineReceipt) {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range w.History() {
			if r.Kind == wallet.KindOnlineReceive {
				t.Fatalf("%s: recorded as paid", name)
			}
		}
	}
}
