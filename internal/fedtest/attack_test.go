package fedtest

import (
	"encoding/json"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
)

// state is what a refused forward must leave unchanged: the provider's
// reconciliation and obligations.
func state(t *testing.T, f *fed, p string) string {
	t.Helper()
	r := f.report(p)
	ob, err := f.ps[p].svc.Obligations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{r.Accounts, r.Outstanding, r.Clearing, r.Settled, r.Devices, ob})
	return string(b)
}

func refused(t *testing.T, f *fed, p string, data []byte, code offpay.Code) {
	t.Helper()
	before := state(t, f, p)
	_, err := f.ps[p].svc.SettleForwarded(ctx, data)
	if offpay.ErrorCode(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
	if after := state(t, f, p); after != before {
		t.Fatalf("a refused forward changed %s:\n%s\n%s", p, before, after)
	}
}

// TestForgedPaymentForwarded: a provider (bankB, holding its issuer key)
// mints a payee device and forwards a payment "from" alice that alice's
// key never signed. bankA refuses it: alice owes nothing, bankA nothing.
func TestForgedPaymentForwarded(t *testing.T) {
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	b := f.ps["bankB"]
	q, qk := mint(t, b.keys.Issuer, b.keys.IssuerKey, "mallory")
	forger := protocol.NewEd25519Signer()
	bundle := payment(t, alice.w.SE().Certificate(), q, forger, 9000, 3)
	refused(t, f, "bankA", forward(t, q, qk, bundle, 1), offpay.EINVALID)
}

// TestTamperedEvidence: the payee's entry signed, then its amount raised
// in transit: the entry's signature no longer verifies.
func TestTamperedEvidence(t *testing.T) {
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	pay(t, alice, bob, 1500)
	bob.sync(t)
	rows, err := f.ps["bankB"].svc.PendingForwards(ctx, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d forwards, %v", len(rows), err)
	}
	fw, err := protocol.UnmarshalForward(rows[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	var bundle protocol.PaymentBundle
	if err := protocol.Unmarshal(fw.Entry.Body, &bundle); err != nil {
		t.Fatal(err)
	}
	bundle.Payment.Amount = 15000
	fw.Entry.Body = bundle.Marshal()
	refused(t, f, "bankA", fw.Marshal(), offpay.EUNAUTHORIZED)
	// The genuine evidence still settles.
	if _, err := f.ps["bankA"].svc.SettleForwarded(ctx, rows[0].Data); err != nil {
		t.Fatal(err)
	}
	assertObligations(t, f, "bankA", "bankB", 1500, 0)
}

// TestUnknownPayerForwarded: evidence of a payer bankA never enrolled
// (here a device of bankB, forwarded to the wrong provider) is refused
// with ENOTFOUND; one from a payee outside the scheme (an issuer the root
// never certified) with EUNAUTHORIZED; one whose "foreign" payee is
// bankA's own device with EINVALID.
func TestUnknownPayerForwarded(t *testing.T) {
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	carol := f.wallet("bankA", "carol", false, 0, 0)
	b := f.ps["bankB"]
	q, qk := mint(t, b.keys.Issuer, b.keys.IssuerKey, "mallory")
	p, pk := mint(t, b.keys.Issuer, b.keys.IssuerKey, "stranger")
	refused(t, f, "bankA", forward(t, q, qk, payment(t, p, q, pk, 100, 1), 1), offpay.ENOTFOUND)

	rogue, err := scheme.Init(t.TempDir(), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rogue.AddProvider("rogue", "", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, rkk := mint(t, rk.Issuer, rk.IssuerKey, "outsider")
	ac := alice.w.SE().Certificate()
	// The payment itself cannot be alice's (her key is in her SE): the
	// payee's certificate is refused first, whatever the payment.
	refused(t, f, "bankA", forward(t, r, rkk, payment(t, ac, r, pk, 100, 1), 1), offpay.EUNAUTHORIZED)

	// bankA's own device presented as another provider's payee.
	a := f.ps["bankA"]
	own, ok := mint(t, a.keys.Issuer, a.keys.IssuerKey, "carol")
	_ = carol
	refused(t, f, "bankA", forward(t, own, ok, payment(t, ac, own, pk, 100, 1), 1), offpay.EINVALID)
}

// TestMirrorSignsNothing: once bankB has mirrored alice (bankA's device),
// her device cannot sync, reserve or be authenticated at bankB.
func TestMirrorSignsNothing(t *testing.T) {
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	pay(t, alice, bob, 1500)
	bob.sync(t)
	id := alice.w.SE().Certificate().ID()
	if _, err := f.ps["bankB"].svc.DeviceCertificate(ctx, id); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("alice authenticated at bankB: %v", err)
	}
	alice.p = f.ps["bankB"]
	f.reopen(alice)
	if err := alice.w.Sync(ctx); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("alice synced at bankB: %v", err)
	}
	if err := alice.w.Reserve(ctx, 100); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("alice reserved at bankB: %v", err)
	}
	if r := f.report("bankB"); !r.ConservationOK || r.Clearing != -1500 {
		t.Fatalf("bankB: ok %v clearing %d", r.ConservationOK, r.Clearing)
	}
}
