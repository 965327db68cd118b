package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// renewalOf checks that res carries a renewal of d's certificate valid at
// res.Time under the ledger's trust, and returns it.
func (e *Env) renewalOf(res *protocol.SyncResult, d *ledgertest.Device) *protocol.Certificate {
	e.T.Helper()
	c := res.Renewal()
	if c == nil {
		e.T.Fatalf("sync result carries no renewal")
	}
	root, iss := e.Svc.Trust()
	tr, err := protocol.NewTrust(root)
	if err == nil {
		err = tr.AddIssuer(iss)
	}
	if err == nil {
		err = tr.VerifyDevice(c, res.Time, &res.RevList)
	}
	if err != nil {
		e.T.Fatalf("renewed certificate: %v", err)
	}
	if c.ID() != d.ID || c.Account != d.Cert.Account || c.Class != d.Cert.Class || c.Currency != d.Cert.Currency {
		e.T.Fatalf("renewal changes identity: %+v, was %+v", c, d.Cert)
	}
	if c.Serial == d.Cert.Serial {
		e.T.Fatalf("renewal keeps serial %d", c.Serial)
	}
	return c
}

// testRenewal: a sync renews the device's certificate when it is within
// the renewal window of expiry, or when the policy's limits changed, and
// not otherwise. The result carries the renewal until the device's log
// shows it applied a later result, so a lost result loses nothing. Enrol
// with the same key then returns the renewed certificate. Limits follow
// the account's kind (person, merchant); an expired certificate is
// renewed at sync too; a bad policy is refused.
func testRenewal(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	a := e.Device("rn-a", "alice")
	e.Load(a, 100)
	if r := e.SyncAll(a); r.Renewal() != nil {
		t.Fatalf("fresh certificate renewed: %+v", r.Renewal())
	}
	pol := e.Svc.Policy()
	// 31 days before expiry: not yet.
	e.Advance(time.Duration(a.Cert.NotAfter-uint64(e.Now().Unix()))*time.Second - 31*24*time.Hour)
	if r := e.SyncAll(a); r.Renewal() != nil {
		t.Fatalf("renewed 31 days before expiry")
	}
	e.Advance(2 * 24 * time.Hour) // 29 days before expiry
	r := e.SyncAll(a)
	c := e.renewalOf(r, a)
	if c.NotAfter != uint64(e.Now().Add(pol.Validity).Unix()) || c.Limits != pol.Person {
		t.Fatalf("renewal validity %d limits %+v", c.NotAfter, c.Limits)
	}
	// Not applied (the result was lost): the next result repeats it.
	e.Advance(time.Second)
	r = e.SyncAll(a)
	if again := e.renewalOf(r, a); again.Serial != c.Serial {
		t.Fatalf("renewal not repeated: serial %d, then %d", c.Serial, again.Serial)
	}
	if en, err := e.Svc.Enrol(e.Ctx, e.enrolment(a, "alice")); err != nil || en.Device.Serial != c.Serial {
		t.Fatalf("enrol after renewal: %v, %+v", err, en)
	}
	a.ApplySync(r) // the device installs it and logs a later sync
	a.Cert = c
	e.Advance(time.Second)
	if r := e.SyncAll(a); r.Renewal() != nil {
		t.Fatalf("renewal sent again after the device applied it")
	}

	// A new policy (a restart with another Options.Policy, or SetPolicy):
	// the next sync renews with its limits.
	lower := pol
	lower.Person.PerPayment, lower.Person.Holding = 5000, 20000
	if err := e.Svc.SetPolicy(lower); err != nil {
		t.Fatal(err)
	}
	r = e.SyncAll(a)
	c2 := e.renewalOf(r, a)
	if c2.Limits != lower.Person {
		t.Fatalf("limits %+v, want %+v", c2.Limits, lower.Person)
	}
	a.ApplySync(r) // a sync entry of the renewal's own second proves nothing
	a.Cert = c2
	e.Advance(time.Second)
	a.ApplySync(e.SyncAll(a)) // the repeat, applied a second later, does

	// Limits follow the kind of account: a merchant policy change renews
	// merchant devices only.
	e.Account("shop", true, 0)
	m := e.Device("rn-m", "shop")
	merch := lower
	merch.Merchant.MaxOfflineCount++
	if err := e.Svc.SetPolicy(merch); err != nil {
		t.Fatal(err)
	}
	if r := e.SyncAll(a); r.Renewal() != nil {
		t.Fatalf("person device renewed on a merchant policy change")
	}
	if c := e.renewalOf(e.SyncAll(m), m); c.Limits != merch.Merchant {
		t.Fatalf("merchant limits %+v, want %+v", c.Limits, merch.Merchant)
	}

	// An expired certificate cannot reserve; its device still syncs and
	// is renewed, then reserves again.
	e.Advance(time.Duration(c2.NotAfter-uint64(e.Now().Unix())+1) * time.Second)
	if _, err := e.Svc.Reserve(e.Ctx, a.Reserve(10, 999)); err == nil {
		t.Fatalf("reserve with an expired certificate")
	} else {
		Code(t, err, offpay.EFORBIDDEN)
	}
	if c3 := e.renewalOf(e.SyncAll(a), a); c3.NotAfter <= uint64(e.Now().Unix()) {
		t.Fatalf("renewal of an expired certificate not valid: %d", c3.NotAfter)
	}
	e.Load(a, 10)
	bad := merch
	bad.Person.PerPayment = bad.Person.Holding + 1
	Code(t, e.Svc.SetPolicy(bad), offpay.EINVALID)
	if !reflect.DeepEqual(e.Svc.Policy(), merch) {
		t.Fatalf("refused policy changed the policy")
	}
}

// testRenewalLowered: payments and redeems a device made under its old,
// higher limits still settle after a renewal lowered them, whichever side
// uploads them and through whichever Service; what was above every limit
// it held is still rejected. A renewal that raises the limits reaches a
// second Service over the same store that had the payer cached.
func testRenewalLowered(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100000)
	e.Account("bob", false, 0)
	a, b := e.Device("rl-a", "alice"), e.Device("rl-b", "bob")
	e.Load(a, 50000)
	e.SyncAll(a)
	e.SyncAll(b)
	n := a.Counter()
	old := a.Pay(b.ID, 9000)   // under the old per-payment limit 10000
	over := a.Pay(b.ID, 10001) // above every limit a held
	a.Redeem(30000)            // under the old holding 50000
	pol := e.Svc.Policy()
	lower := pol
	lower.Person.PerPayment, lower.Person.Holding = 5000, 20000
	if err := e.Svc.SetPolicy(lower); err != nil {
		t.Fatal(err)
	}
	// a syncs what it had before paying: renewed with the lower limits.
	if c := e.renewalOf(e.Sync(a, 1, n), a); c.Limits.PerPayment != 5000 {
		t.Fatalf("payer renewal limits %+v", c.Limits)
	}
	// b, renewed too, then shows the payment a made before.
	e.renewalOf(e.SyncAll(b), b)
	b.Receive(old)
	b.Receive(over)
	r := e.SyncAll(b)
	if statusOf(r, old.Payment.ID()) != protocol.StatusSettled || statusOf(r, over.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("payee's statuses: %+v", r.Statuses)
	}
	// a's own upload (pay entries and the redeem) is accepted too.
	r = e.SyncAll(a)
	if statusOf(r, old.Payment.ID()) != protocol.StatusSettled || statusOf(r, over.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("payer's statuses: %+v", r.Statuses)
	}
	if d := e.Dev(a); d.Sent != 9000 || d.Redeemed != 30000 {
		t.Fatalf("alice sent %d redeemed %d", d.Sent, d.Redeemed)
	}

	// Raised limits: a second Service over the store, which has a cached
	// from the payee's upload, settles a payment above a's old limits.
	other := ledger.New(e.Store, testKeys(t), ledger.Options{Clock: e.Now})
	e.Load(a, 100)
	p1 := a.Pay(b.ID, 100)
	b.Receive(p1)
	if _, err := other.Sync(e.Ctx, b.UploadAll()); err != nil {
		t.Fatal(err)
	}
	higher := pol
	higher.Person.PerPayment, higher.Person.Holding = 40000, 80000
	if err := e.Svc.SetPolicy(higher); err != nil {
		t.Fatal(err)
	}
	e.renewalOf(e.SyncAll(a), a)
	e.Load(a, 30000)
	big := a.Pay(b.ID, 25000)
	b.Receive(big)
	r, err := other.Sync(e.Ctx, b.UploadAll())
	if err != nil {
		t.Fatal(err)
	}
	if statusOf(r, big.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("payment under the raised limit: status %d", statusOf(r, big.Payment.ID()))
	}
}

// testSharedPolicy: the policy one ledger process publishes is the policy
// every other process on the store takes up, so that they renew devices
// alike (several processes on one database).
func testSharedPolicy(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	a := e.Device("sp-a", "alice") // under the default policy
	other := ledger.New(e.Store, testKeys(t), ledger.Options{Clock: e.Now})
	if ok, err := other.LoadPolicy(e.Ctx); err != nil || ok {
		t.Fatalf("a policy published before any: %v %v", ok, err)
	}
	pol := e.Svc.Policy()
	pol.Person.MaxHops, pol.Person.PerPayment = 1, 7000
	if err := e.Svc.PublishPolicy(e.Ctx, pol); err != nil {
		t.Fatal(err)
	}
	if ok, err := other.LoadPolicy(e.Ctx); err != nil || !ok || !reflect.DeepEqual(other.Policy(), pol) {
		t.Fatalf("the other process's policy: %+v (%v %v)", other.Policy(), ok, err)
	}
	r, err := other.Sync(e.Ctx, a.UploadAll())
	if err != nil {
		t.Fatal(err)
	}
	if c := e.renewalOf(r, a); c == nil || c.Limits != pol.Person {
		t.Fatalf("renewal through the other process: %+v", c)
	}
	bad := pol
	bad.Person.PerPayment = bad.Person.Holding + 1
	if err := e.Svc.PublishPolicy(e.Ctx, bad); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("an invalid policy published: %v", err)
	}
	if ok, _ := other.LoadPolicy(e.Ctx); !ok || !reflect.DeepEqual(other.Policy(), pol) {
		t.Fatalf("an invalid policy reached the store")
	}
}
