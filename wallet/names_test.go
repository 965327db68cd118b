package wallet_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/wallet"
)

// TestPayeeIsCertified: the name and kind a payer is shown come from the
// ledger-signed certificate (a merchant's display name set by the
// operator, a person's account), before the SE signs; a person cannot
// claim a shop's name, in its own SE or in an edited request; a payer
// whose confirmation refuses the payee signs nothing. The operator's
// names and PIN policy are checked; a PIN below the policy is refused at
// enrolment.
func TestPayeeIsCertified(t *testing.T) {
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(store, keys, ledger.Options{})
	for _, bad := range []string{"", "Corner Shop and Bakery 24", "Shop\u202epohS", "Corner\nShop", " Shop"} {
		if _, err := svc.CreateMerchant(ctx, "bad", bad); err == nil {
			t.Fatalf("display name %q accepted", bad)
		}
	}
	if _, err := svc.Account(ctx, "bad"); err == nil {
		t.Fatal("a refused merchant was created")
	}
	for _, n := range []uint64{0, 3, 24} {
		pol := ledger.DefaultPolicy
		pol.Person.MinPIN = n
		if err := svc.SetPolicy(pol); err == nil {
			t.Fatalf("PIN minimum %d accepted", n)
		}
	}
	if _, err := svc.CreateMerchant(ctx, "shop", "Corner Shop"); err != nil {
		t.Fatal(err)
	}
	open := func(name, pin string) (*wallet.Wallet, error) {
		if name != "shop" {
			if _, err := svc.CreateAccount(ctx, name, false); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Deposit(ctx, name, 10000, "init:"+name); err != nil {
				t.Fatal(err)
			}
		}
		v, err := vse.Create(filepath.Join(dir, name), pin, setest.Options(nil))
		if err != nil {
			t.Fatal(err)
		}
		w, err := wallet.Open(v, filepath.Join(dir, name), &wallet.Options{Ledger: realLedger{svc}})
		if err != nil {
			t.Fatal(err)
		}
		return w, w.Enrol(ctx, name)
	}
	mustOpen := func(name string) *wallet.Wallet {
		w, err := open(name, setest.PIN)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	// The default policy asks 6 characters: a 5-character PIN's SE refuses
	// the certificate, and stays unenrolled.
	w, err := open("eve", "12345")
	if !errors.Is(err, se.ErrWeakPIN) || w.SE().Certificate() != nil {
		t.Fatalf("enrolment with a 5-character PIN: %v", err)
	}
	shop, alice, mallory := mustOpen("shop"), mustOpen("alice"), mustOpen("mallory")
	if c := shop.SE().Certificate(); c.Name != "Corner Shop" || c.Kind() != protocol.KindMerchant || c.Limits.MinPIN != ledger.DefaultMinPIN {
		t.Fatalf("shop certified as %q (%v), PIN minimum %d", c.Name, c.Kind(), c.Limits.MinPIN)
	}
	if c := alice.SE().Certificate(); c.Name != "" || c.Kind() != protocol.KindPerson {
		t.Fatalf("alice certified as %q", c.Name)
	}
	if err := alice.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}

	// The shop's request: the payer is shown the certified name and kind
	// before its SE signs (its counter has not moved when confirm runs).
	req, err := shop.Request(1250, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	before := st(t, alice).SE.Counter
	var shown wallet.Payee
	if _, err := alice.PayTo(req, 0, func(p wallet.Payee) error {
		shown = p
		if c := st(t, alice).SE.Counter; c != before {
			t.Errorf("the SE signed (counter %d) before the payer saw the payee", c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if shown.Kind != protocol.KindMerchant || shown.Name != "Corner Shop" || shown.Account != "shop" || shown.Amount != 1250 ||
		shown.String() != `merchant "Corner Shop" (account shop)` {
		t.Fatalf("shown %+v", shown)
	}

	// Mallory's SE will not sign a request claiming the shop's name.
	if _, err := mallory.RequestWith(se.RequestParams{Name: "Corner Shop"}, time.Minute); protocol.ClassOf(err) != protocol.ClassBadField {
		t.Fatalf("mallory claiming the shop's name: %v", err)
	}
	// Her own card shows her as a person; a payer expecting the shop
	// refuses, and nothing is signed or debited.
	card, err := mallory.StandingRequest()
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := wallet.DescribeRequest(card)
	if err != nil || p.String() != "person mallory" {
		t.Fatalf("mallory's card shows %v (%v)", p, err)
	}
	stBefore := st(t, alice)
	errNotShop := errors.New("not the shop")
	if _, err := alice.PayTo(card, 500, func(p wallet.Payee) error {
		if p.Name != "Corner Shop" {
			return errNotShop
		}
		return nil
	}); !errors.Is(err, errNotShop) {
		t.Fatalf("paying mallory's card expecting the shop: %v", err)
	}
	if after := st(t, alice); after.SE.Counter != stBefore.SE.Counter || after.Available != stBefore.Available {
		t.Fatalf("a refused payee was paid: %+v", after)
	}
	// Her card edited to claim the shop's name does not even decode.
	var r protocol.PaymentRequest
	if err := protocol.OpenAs(card, &r); err != nil {
		t.Fatal(err)
	}
	r.Name = "Corner Shop"
	if _, err := alice.Pay(protocol.Seal(&r), 500); protocol.ClassOf(err) != protocol.ClassBadField {
		t.Fatalf("a request claiming an uncertified name: %v", err)
	}
	if after := st(t, alice); after.SE.Counter != stBefore.SE.Counter {
		t.Fatal("the SE signed for a request claiming an uncertified name")
	}
}
