package storetest

import (
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// testOnlineReceiptBack: a ledger that lost online payments (its database
// went back to a copy older than them: here a second ledger on a fresh
// store with the same keys, accounts and devices, which never saw them)
// takes each back once from the receipt it signed (ledger/onlinerestore.go),
// and refuses, moving nothing, a receipt altered, one signed by another
// ledger, one whose request it holds as paid otherwise, and one its payer
// can no longer cover.
func testOnlineReceiptBack(t *testing.T, open Opener) {
	was, lost := newOnlineWorld(t, open), newOnlineWorld(t, open)
	e := lost.e
	rc := was.pay(was.a.PayOnline(was.request(was.m, 250), 250))
	open2 := was.request(was.b, 0)
	rc2 := was.pay(was.a.PayOnline(open2, 40))
	rc3 := was.pay(was.a.PayOnline(was.request(was.b, 600), 600))

	present := func(rc *protocol.OnlineReceipt) (bool, error) {
		before := lost.balances()
		n := e.Conserved().OnlinePayments
		ok, err := e.Svc.PresentOnlineReceipt(e.Ctx, rc)
		if err != nil {
			if after := lost.balances(); after != before {
				t.Fatalf("a refused receipt moved money: %v -> %v", before, after)
			}
			if got := e.Conserved().OnlinePayments; got != n {
				t.Fatalf("a refused receipt was recorded")
			}
		}
		return ok, err
	}
	refuse := func(what string, rc *protocol.OnlineReceipt, code offpay.Code) {
		t.Helper()
		_, err := present(rc)
		if offpay.ErrorCode(err) != code {
			t.Fatalf("%s: %v, want %s", what, err, code)
		}
	}
	// Altered after the ledger signed it: amount, payee, payer, nonce.
	for what, alter := range map[string]func(*protocol.OnlineReceipt){
		"amount": func(r *protocol.OnlineReceipt) { r.Amount = 2500 },
		"payee":  func(r *protocol.OnlineReceipt) { r.Payee = was.b.ID },
		"payer":  func(r *protocol.OnlineReceipt) { r.Payer = was.b.ID },
		"nonce":  func(r *protocol.OnlineReceipt) { r.Nonce[0] ^= 1 },
	} {
		bad := *rc
		alter(&bad)
		refuse("receipt with another "+what, &bad, offpay.EUNAUTHORIZED)
	}
	// Signed by another ledger's issuer (a colluder's own ledger).
	other := prototest.NewPKI("other-ledger")
	forged := *rc
	forged.Signer = other.Issuer.ID()
	if err := forged.Sign(other.IssuerKey); err != nil {
		t.Fatal(err)
	}
	refuse("receipt of another ledger", &forged, offpay.EUNAUTHORIZED)

	// The real receipt: entered once, as when it was paid.
	if ok, err := present(rc); err != nil || !ok {
		t.Fatalf("receipt back: %v (restored %v)", err, ok)
	}
	if ok, err := present(rc); err != nil || ok {
		t.Fatalf("the same receipt again: %v (restored %v)", err, ok)
	}
	if e.Balance("alice") != 750 || e.Balance("shop") != 250 {
		t.Fatalf("after the receipt came back: alice %d, shop %d", e.Balance("alice"), e.Balance("shop"))
	}
	got, err := e.Svc.OnlineReceipt(e.Ctx, rc.Payee, rc.Nonce)
	if err != nil || got.Payment != rc.Payment {
		t.Fatalf("the payee's lookup after: %v", err)
	}
	// Since the loss, alice paid bob's open request again, for 30: the
	// receipt of her payment of 40 conflicts with what the ledger holds.
	e.Advance(time.Second)
	lost.a.Time = uint64(e.Now().Unix())
	lost.n = was.n - 2 // the same requests, nonce for nonce
	lost.pay(lost.a.PayOnline(lost.request(lost.b, 0), 30))
	refuse("receipt of a request paid otherwise since", rc2, offpay.ECONFLICT)
	// alice has spent what the loss gave back (720 of 720 free):
	// the 600 cannot be taken from her; the operator settles it.
	if _, err := e.Svc.Withdraw(e.Ctx, "alice", 700, "spent-after-restore"); err != nil {
		t.Fatal(err)
	}
	refuse("receipt its payer no longer covers", rc3, offpay.ELIMIT)
}
