package card_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/card/attest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

// attestedCard makes a card for name whose key maker attests (no
// attestation if maker is nil), with its applet in this process.
func (e *env) attestedCard(name string, maker protocol.Signer) *card.Card {
	e.t.Helper()
	dir := filepath.Join(e.root, name, "card")
	v, err := vse.Create(dir, setest.PIN, opts())
	if err != nil {
		e.t.Fatal(err)
	}
	if maker != nil {
		alg, key := v.PublicKey()
		a, err := attest.Make(maker, alg, key, protocol.SESmartCard, e.now.Load())
		if err != nil {
			e.t.Fatal(err)
		}
		if err := attest.Write(dir, a); err != nil {
			e.t.Fatal(err)
		}
	}
	c, err := card.Open(direct{applet.New(dir, opts())}, setest.PIN)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestAttestedCardEnrolsAsCard: over the APDU interface, a card attested
// by a maker the ledger trusts enrols as class 2 with the cards' limits,
// and is renewed at sync with its class's new limits, and as class 1
// once its manufacturer is revoked; a
// card without attestation enrols as class 1 with the software limits; a
// card attested by the TEST manufacturer, which this policy does not
// trust, is refused and holds no certificate.
func TestAttestedCardEnrolsAsCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seed := sha256.Sum256([]byte("a card maker"))
	maker := protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed[:])}
	pol := wallettest.Policy()
	cardLim := pol.Person
	cardLim.Holding, cardLim.MaxOfflineValue = 2*pol.Person.Holding, 2*pol.Person.MaxOfflineValue
	pol.Classes = map[protocol.SEClass]ledger.ClassLimits{protocol.SESmartCard: {Person: cardLim, Merchant: pol.Merchant}}
	pol.Manufacturers = []ledger.Manufacturer{{Name: "maker", KeyAlg: protocol.AlgEd25519, Key: maker.PublicKey(),
		Classes: []protocol.SEClass{protocol.SESmartCard}}}
	if err := e.led.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}

	ca := e.attestedCard("alice", maker)
	if a, err := ca.Attestation(); err != nil || a == nil || a.Class != protocol.SESmartCard {
		t.Fatalf("GET ATTESTATION: %v %v", a, err)
	}
	wa := e.wallet("alice", ca)
	if c := ca.Certificate(); c.Class != protocol.SESmartCard || c.Limits != cardLim {
		t.Fatalf("attested card: class %d limits %+v", c.Class, c.Limits)
	}
	// The cards' limits change: at its next sync the card is renewed with
	// the new limits of its class, not the software ones.
	cardLim.PerPayment = pol.Person.PerPayment / 2
	pol.Classes[protocol.SESmartCard] = ledger.ClassLimits{Person: cardLim, Merchant: pol.Merchant}
	if err := e.led.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}
	if err := wa.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := ca.Certificate(); c.Class != protocol.SESmartCard || c.Limits != cardLim {
		t.Fatalf("renewed card: class %d limits %+v, want %+v", c.Class, c.Limits, cardLim)
	}
	// Its manufacturer is revoked: at its next sync the card is renewed as
	// software (class 1, the software limits), and still pays within them.
	pol.Manufacturers[0].Revoked = true
	if err := e.led.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}
	if err := wa.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := ca.Certificate(); c.Class != protocol.SEVirtual || c.Limits != pol.Person {
		t.Fatalf("card of a revoked maker: class %d limits %+v, want class 1 %+v", c.Class, c.Limits, pol.Person)
	}
	pol.Manufacturers[0].Revoked = false
	if err := e.led.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}

	cb := e.attestedCard("bob", nil)
	if a, err := cb.Attestation(); err != nil || a != nil {
		t.Fatalf("GET ATTESTATION on a card without one: %v %v", a, err)
	}
	e.wallet("bob", cb)
	if c := cb.Certificate(); c.Class != protocol.SEVirtual || c.Limits != pol.Person {
		t.Fatalf("card without attestation: class %d limits %+v", c.Class, c.Limits)
	}

	cc := e.attestedCard("carol", attest.TestManufacturer())
	e.led.Open("carol", false, startBalance)
	w, err := wallet.Open(cc, filepath.Join(e.root, "carol"), &wallet.Options{Ledger: e.led, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Enrol(ctx, "carol"); !errors.Is(err, ledger.ErrNotAttested) || !errors.Is(err, &protocol.Error{Class: protocol.ClassUntrusted}) {
		t.Fatalf("TEST-attested card against a production policy: %v", err)
	}
	if cc.Certificate() != nil {
		t.Fatal("the refused card holds a certificate")
	}
}
