package ledger_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/card/attest"
	"github.com/offpay/offpay/sqlite"
)

// attestEnv is a ledger on SQLite whose policy trusts one manufacturer
// for cards and gives cards higher limits than software.
type attestEnv struct {
	t     *testing.T
	ctx   context.Context
	svc   *ledger.Service
	maker protocol.Ed25519Signer
	pol   ledger.Policy
	st    *sqlite.Store
	keys  *ledger.Keys
}

func key(label string) protocol.Ed25519Signer {
	seed := sha256.Sum256([]byte(label))
	return protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed[:])}
}

func newAttestEnv(t *testing.T) *attestEnv {
	t.Helper()
	ctx := context.Background()
	st, keys := sqliteLedger(t)
	e := &attestEnv{t: t, ctx: ctx, maker: key("maker"), st: st, keys: keys}
	e.svc = ledger.New(st, keys, ledger.Options{})
	e.pol = ledger.DefaultPolicy
	card := ledger.ClassLimits{Person: e.pol.Person, Merchant: e.pol.Merchant}
	card.Person.Holding, card.Person.PerPayment, card.Person.MaxOfflineValue = 200000, 50000, 200000
	e.pol.Classes = map[protocol.SEClass]ledger.ClassLimits{protocol.SESmartCard: card}
	e.pol.Manufacturers = []ledger.Manufacturer{{Name: "Card Maker", KeyAlg: protocol.AlgEd25519,
		Key: e.maker.PublicKey(), Classes: []protocol.SEClass{protocol.SESmartCard}}}
	e.setPolicy(e.pol)
	for _, a := range []string{"alice", "bob"} {
		if _, err := e.svc.CreateAccount(ctx, a, false); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *attestEnv) setPolicy(p ledger.Policy) {
	e.t.Helper()
	if err := e.svc.PublishPolicy(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
}

// request is an enrolment request signed by dev for account, claiming class.
func (e *attestEnv) request(dev protocol.Signer, account string, class protocol.SEClass) *protocol.EnrolmentRequest {
	r := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: dev.Alg(), Key: dev.PublicKey(),
		Account: account, Class: class, Time: uint64(time.Now().Unix())}
	if err := r.Sign(dev); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *attestEnv) attest(maker protocol.Signer, dev protocol.Signer, class protocol.SEClass) *protocol.Attestation {
	a, err := attest.Make(maker, dev.Alg(), dev.PublicKey(), class, uint64(time.Now().Unix()))
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// refused checks that r is refused with EFORBIDDEN, ErrNotAttested and
// (if not empty) the protocol class, and that no device was certified.
func (e *attestEnv) refused(r *protocol.EnrolmentRequest, class protocol.Class) {
	e.t.Helper()
	_, err := e.svc.Enrol(e.ctx, r)
	if offpay.ErrorCode(err) != offpay.EFORBIDDEN || !errors.Is(err, ledger.ErrNotAttested) {
		e.t.Fatalf("enrolment: %v, want forbidden, not attested", err)
	}
	if class != "" && !errors.Is(err, &protocol.Error{Class: class}) {
		e.t.Fatalf("enrolment: %v, want protocol class %s", err, class)
	}
	if _, err := e.svc.DeviceCertificate(e.ctx, r.ID()); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		e.t.Fatalf("refused device has a certificate: %v", err)
	}
}

// TestSoftwareSEClaimingCardRefused: a software SE (no attestation)
// claiming class 2 or 3 is refused; the same key enrols as class 1 with the
// class-1 limits.
func TestSoftwareSEClaimingCardRefused(t *testing.T) {
	e := newAttestEnv(t)
	dev := key("software")
	e.refused(e.request(dev, "alice", protocol.SESmartCard), "")
	e.refused(e.request(dev, "alice", protocol.SETEE), "")
	en, err := e.svc.Enrol(e.ctx, e.request(dev, "alice", protocol.SEVirtual))
	if err != nil {
		t.Fatal(err)
	}
	if en.Device.Class != protocol.SEVirtual || en.Device.Limits != e.pol.Person {
		t.Fatalf("class %d limits %+v, want class 1 with the person limits", en.Device.Class, en.Device.Limits)
	}
}

// TestAttestedCardGetsCardLimits: a card attested by the trusted maker
// enrols as class 2 with the cards' limits, and again with the same
// answer; the same key without its attestation is refused.
func TestAttestedCardGetsCardLimits(t *testing.T) {
	e := newAttestEnv(t)
	dev := key("card")
	r := e.request(dev, "alice", protocol.SESmartCard)
	r.Attestation = e.attest(e.maker, dev, protocol.SESmartCard)
	en, err := e.svc.Enrol(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if en.Device.Class != protocol.SESmartCard || en.Device.Limits != e.pol.Classes[protocol.SESmartCard].Person {
		t.Fatalf("class %d limits %+v, want the card limits", en.Device.Class, en.Device.Limits)
	}
	again, err := e.svc.Enrol(e.ctx, r)
	if err != nil || again.Device.Serial != en.Device.Serial {
		t.Fatalf("second enrolment: %v (serial %v, want %v)", err, again, en.Device.Serial)
	}
	// Without the attestation the same key cannot get in as a card.
	bare := e.request(dev, "alice", protocol.SESmartCard)
	if _, err := e.svc.Enrol(e.ctx, bare); !errors.Is(err, ledger.ErrNotAttested) {
		t.Fatalf("card without its attestation: %v", err)
	}
}

// TestAttestationOfAnotherKeyRefused: a software SE holding a genuine
// card's attestation (it is not secret: the card shows it to anyone) hangs
// it on its own key's request.
func TestAttestationOfAnotherKeyRefused(t *testing.T) {
	e := newAttestEnv(t)
	card, soft := key("card"), key("software")
	r := e.request(soft, "alice", protocol.SESmartCard)
	r.Attestation = e.attest(e.maker, card, protocol.SESmartCard)
	e.refused(r, protocol.ClassBadField)
	// A card attested as class 2 claiming class 3.
	r = e.request(card, "alice", protocol.SETEE)
	r.Attestation = e.attest(e.maker, card, protocol.SESmartCard)
	e.refused(r, protocol.ClassBadField)
}

// TestUntrustedManufacturerRefused: an attestation signed by a key the
// policy does not list (a forger's own "manufacturer"), by a maker listed
// for another class, and one whose signature is not the maker's.
func TestUntrustedManufacturerRefused(t *testing.T) {
	e := newAttestEnv(t)
	dev := key("card")
	r := e.request(dev, "alice", protocol.SESmartCard)
	r.Attestation = e.attest(key("forger"), dev, protocol.SESmartCard)
	e.refused(r, protocol.ClassUntrusted)

	tee := e.request(dev, "alice", protocol.SETEE)
	tee.Attestation = e.attest(e.maker, dev, protocol.SETEE) // trusted for class 2 only
	e.refused(tee, protocol.ClassUntrusted)

	forged := e.attest(key("forger"), dev, protocol.SESmartCard)
	forged.Maker = e.attest(e.maker, dev, protocol.SESmartCard).Maker // claims the trusted maker
	r.Attestation = forged
	e.refused(r, protocol.ClassBadSignature)

	// The TEST manufacturer is not trusted by this (production-like) policy.
	r.Attestation = e.attest(attest.TestManufacturer(), dev, protocol.SESmartCard)
	e.refused(r, protocol.ClassUntrusted)
}

// TestRevokedOrRemovedManufacturerRefused: after the maker's key is marked
// revoked in the policy, or removed from it, its attestations no longer
// enrol anyone (a card enrolled before is renewed as class 1 at its next
// sync: se/card's TestAttestedCardEnrolsAsCard).
func TestRevokedOrRemovedManufacturerRefused(t *testing.T) {
	e := newAttestEnv(t)
	early, late := key("early card"), key("late card")
	r := e.request(early, "alice", protocol.SESmartCard)
	r.Attestation = e.attest(e.maker, early, protocol.SESmartCard)
	if _, err := e.svc.Enrol(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	p := e.pol
	p.Manufacturers = []ledger.Manufacturer{e.pol.Manufacturers[0]}
	p.Manufacturers[0].Revoked = true
	e.setPolicy(p)
	lr := e.request(late, "alice", protocol.SESmartCard)
	lr.Attestation = e.attest(e.maker, late, protocol.SESmartCard)
	e.refused(lr, protocol.ClassRevoked)
	p.Manufacturers = nil
	e.setPolicy(p)
	e.refused(lr, protocol.ClassUntrusted)
}

// TestAttestationReplayedOnAnotherAccount: an attestation names a key,
// not an account (it is made at manufacture). Presenting it again is
// harmless: only the holder of the attested key can sign the request, and
// the ledger certifies one key for one account. So the same card
// enrolling for a second account is refused (conflict), and an attacker
// with the attestation but not the key cannot sign for it.
func TestAttestationReplayedOnAnotherAccount(t *testing.T) {
	e := newAttestEnv(t)
	dev := key("card")
	att := e.attest(e.maker, dev, protocol.SESmartCard)
	r := e.request(dev, "alice", protocol.SESmartCard)
	r.Attestation = att
	if _, err := e.svc.Enrol(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	bob := e.request(dev, "bob", protocol.SESmartCard)
	bob.Attestation = att
	if _, err := e.svc.Enrol(e.ctx, bob); offpay.ErrorCode(err) != offpay.ECONFLICT {
		t.Fatalf("same card for bob: %v, want conflict", err)
	}
	// The attacker's request for the card's key, signed with its own key.
	forged := e.request(key("attacker"), "bob", protocol.SESmartCard)
	forged.Key = dev.PublicKey()
	if err := forged.Sign(key("attacker")); err != nil {
		t.Fatal(err)
	}
	forged.Attestation = att
	if _, err := e.svc.Enrol(e.ctx, forged); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("attestation without the key: %v, want unauthorized", err)
	}
	c, err := e.svc.DeviceCertificate(e.ctx, r.ID())
	if err != nil || c.Account != "alice" {
		t.Fatalf("the card's certificate: %v %v", c, err)
	}
}

// TestPolicyRefusesTestManufacturer: the published TEST key is refused
// unless the policy marks it as a test key; "test" on another key is
// refused too; limits for class 1 in Classes are refused.
func TestPolicyRefusesTestManufacturer(t *testing.T) {
	e := newAttestEnv(t)
	tm := ledger.Manufacturer{Name: "TEST", KeyAlg: protocol.AlgEd25519, Key: attest.TestManufacturer().PublicKey(),
		Classes: []protocol.SEClass{protocol.SESmartCard}}
	p := e.pol
	p.Manufacturers = []ledger.Manufacturer{tm}
	if err := e.svc.SetPolicy(p); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("TEST key without test: %v", err)
	}
	p.Manufacturers[0].Test = true
	if err := e.svc.SetPolicy(p); err != nil || !p.TrustsTestManufacturer() {
		t.Fatalf("TEST key marked test: %v", err)
	}
	p.Manufacturers = []ledger.Manufacturer{e.pol.Manufacturers[0]}
	p.Manufacturers[0].Test = true
	if err := e.svc.SetPolicy(p); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("another key marked test: %v", err)
	}
	p = e.pol
	p.Classes = map[protocol.SEClass]ledger.ClassLimits{protocol.SEVirtual: e.pol.Classes[protocol.SESmartCard]}
	if err := e.svc.SetPolicy(p); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("limits for class 1 in Classes: %v", err)
	}
}

// TestTestManufacturerKeyMatchesSeed: protocol's published TEST key is the
// one se/card/attest derives from its published seed.
func TestTestManufacturerKeyMatchesSeed(t *testing.T) {
	if string(attest.TestManufacturer().PublicKey()) != string(protocol.TestManufacturerKey) {
		t.Fatal("protocol.TestManufacturerKey is not the TEST manufacturer's key")
	}
}

// TestPublishedPolicyKeepsManufacturers: the policy stored for every
// ledger process on the store carries the classes' limits and the
// manufacturers; another process takes them up as they were published.
func TestPublishedPolicyKeepsManufacturers(t *testing.T) {
	e := newAttestEnv(t)
	other := ledger.New(e.st, e.keys, ledger.Options{})
	if ok, err := other.LoadPolicy(e.ctx); !ok || err != nil {
		t.Fatalf("load: %v %v", ok, err)
	}
	if !reflect.DeepEqual(other.Policy(), e.svc.Policy()) {
		t.Fatalf("loaded %+v\npublished %+v", other.Policy(), e.svc.Policy())
	}
	dev := key("card")
	r := e.request(dev, "alice", protocol.SESmartCard)
	r.Attestation = e.attest(e.maker, dev, protocol.SESmartCard)
	if en, err := other.Enrol(e.ctx, r); err != nil || en.Device.Limits != e.pol.Classes[protocol.SESmartCard].Person {
		t.Fatalf("enrolment through the other process: %v", err)
	}
}
