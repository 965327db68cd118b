package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// testRevocation: an administrator revokes a lost device. The list is
// re-issued at once and re-signed when it grows old; payments the device
// made before are honoured; its account stays usable.
func testRevocation(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a, m := e.Device("rv-a", "alice"), e.Device("rv-m", "shop")
	e.Load(a, 100)
	m.Receive(a.Pay(m.ID, 40))
	rl0, err := e.Svc.RevocationList(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Revoke(e.Ctx, a.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Revoke(e.Ctx, a.ID, "lost"); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	Code(t, e.Svc.Revoke(e.Ctx, e.newDev("rv-x").ID, "x"), offpay.ENOTFOUND)
	rl1, err := e.Svc.RevocationList(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, issuer := e.Svc.Trust()
	if rl1.Number <= rl0.Number || !rl1.IsRevoked(a.ID) || rl1.Verify(issuer) != nil {
		t.Fatalf("list after revocation: %+v (before %d)", rl1, rl0.Number)
	}
	// Refused with the protocol's revoked class, so clients can tell.
	_, err = e.Svc.Reserve(e.Ctx, a.Reserve(10, 77))
	Code(t, err, offpay.EFORBIDDEN)
	if !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("reserve by a revoked device: %v has no revoked class", err)
	}
	_, err = e.Svc.Sync(e.Ctx, a.UploadAll())
	Code(t, err, offpay.EFORBIDDEN)
	if protocol.ClassOf(err) != protocol.ClassRevoked {
		t.Fatalf("sync by a revoked device: %v has class %q", err, protocol.ClassOf(err))
	}
	_, err = e.Svc.Enrol(e.Ctx, e.enrolment(a, "alice"))
	if !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("enrolment of a revoked device: %v", err)
	}
	// Accepted offline before the list reached the shop: honoured.
	e.SyncAll(m)
	if got := e.Balance("shop"); got != 40 {
		t.Fatalf("shop %d", got)
	}
	if _, err := e.Svc.Withdraw(e.Ctx, "alice", 100, "w"); err != nil {
		t.Fatalf("account of a revoked (not fraudulent) device frozen: %v", err)
	}
	// The list is re-signed once older than RevocationEvery.
	e.Advance(2 * time.Hour)
	res := e.SyncAll(m)
	if res.RevList.Number <= rl1.Number || int64(res.RevList.Issued) != e.Now().Unix() || !res.RevList.IsRevoked(a.ID) {
		t.Fatalf("stale list not re-signed: %+v", res.RevList)
	}
	rl2, _ := e.Svc.RevocationList(e.Ctx)
	if rl2.Number != res.RevList.Number {
		t.Fatalf("list re-signed again while fresh: %d then %d", res.RevList.Number, rl2.Number)
	}
	// The operator carries the revoked purse's value until the device
	// is recovered: the report shows it as outstanding.
	if d := e.Dev(a); d.Status != "revoked" || d.Position != 60 {
		t.Fatalf("revoked device %+v", d)
	}
}

// testLostDevice: the operator reports a device lost. It is revoked at
// once, its account is not frozen, and a replacement enrols and reserves.
// Payments it made before the loss are honoured when their payees sync.
// Once no payee can accept its payments any more (its deadline plus the
// claim window), the value it still holds returns to the account; one
// that surfaces later is charged to the account.
func testLostDevice(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	e.Account("dave", false, 0)
	a, b, c, d := e.Device("ld-a", "alice"), e.Device("ld-b", "bob"), e.Device("ld-c", "carol"), e.Device("ld-d", "dave")
	e.Load(a, 60)
	b.Receive(a.Pay(b.ID, 20))
	c.Receive(a.Pay(c.ID, 10)) // offline, before the loss
	d.Receive(a.Pay(d.ID, 5))  // offline, before the loss
	e.Sync(a, 1, 2)
	e.SyncAll(b)
	if err := e.Svc.Lost(e.Ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Lost(e.Ctx, a.ID); err != nil {
		t.Fatalf("reported twice: %v", err)
	}
	if r := e.Conserved(); !revokedIn(r, a) || e.frozen("alice") {
		t.Fatalf("lost: revoked %v frozen %v", r.RevokedDevices, e.frozen("alice"))
	}
	// A replacement phone for the same account.
	a2 := e.Device("ld-a2", "alice")
	e.Load(a2, 10)
	e.SyncAll(c)
	e.Advance(10*day - time.Minute)
	if got := e.assess(); got.Restored != 0 {
		t.Fatalf("restored before the deadline: %+v", got)
	}
	e.Advance(2 * time.Minute)
	if got := e.assess(); got.Restored != 1 {
		t.Fatalf("assessment %+v", got)
	}
	if k := e.lineKinds("alice"); k[ledger.LineRestored] != 30 || e.Balance("alice") != 60 {
		t.Fatalf("restoration: lines %+v balance %d", k, e.Balance("alice"))
	}
	if dr := e.Dev(a); dr.Restored != 30 || dr.Position != 0 {
		t.Fatalf("lost device %+v", dr)
	}
	if got := e.assess(); got.Restored != 0 {
		t.Fatalf("restored twice: %+v", got)
	}
	// Dave stayed offline: his payment surfaces after the restoration and
	// is honoured, charged to alice's account.
	e.SyncAll(d)
	r := e.Conserved()
	if e.Dev(d).Received != 5 || e.Balance("alice") != 55 || r.Recovered != 5 || r.Losses != 0 {
		t.Fatalf("late payment: dave %d, alice %d, recovered %d", e.Dev(d).Received, e.Balance("alice"), r.Recovered)
	}
}
