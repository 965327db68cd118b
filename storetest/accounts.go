package storetest

import (
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

func testAccounts(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	svc, ctx := e.Svc, e.Ctx
	e.Account("alice", false, 0)
	_, err := svc.CreateAccount(ctx, "alice", false)
	Code(t, err, offpay.ECONFLICT)
	_, err = svc.CreateAccount(ctx, "no spaces", false)
	Code(t, err, offpay.EINVALID)
	_, err = svc.CreateAccount(ctx, "seventeen-chars-x", false)
	Code(t, err, offpay.EINVALID)

	if a, err := svc.Deposit(ctx, "alice", 1000, "d1"); err != nil || a.Balance != 1000 {
		t.Fatalf("deposit: %v %+v", err, a)
	}
	// Idempotent by ref: a retried deposit changes nothing.
	if a, err := svc.Deposit(ctx, "alice", 1000, "d1"); err != nil || a.Balance != 1000 {
		t.Fatalf("repeated deposit: %v %+v", err, a)
	}
	_, err = svc.Deposit(ctx, "alice", 999, "d1")
	Code(t, err, offpay.ECONFLICT)
	_, err = svc.Withdraw(ctx, "alice", 1000, "d1")
	Code(t, err, offpay.ECONFLICT)
	_, err = svc.Deposit(ctx, "alice", 0, "d2")
	Code(t, err, offpay.EINVALID)
	_, err = svc.Deposit(ctx, "alice", -5, "d2")
	Code(t, err, offpay.EINVALID)
	_, err = svc.Deposit(ctx, "nobody", 5, "d3")
	Code(t, err, offpay.ENOTFOUND)
	_, err = svc.Withdraw(ctx, "alice", 1001, "w1")
	Code(t, err, offpay.ELIMIT)
	if a, err := svc.Withdraw(ctx, "alice", 300, "w2"); err != nil || a.Balance != 700 {
		t.Fatalf("withdraw: %v %+v", err, a)
	}
	if a, err := svc.Withdraw(ctx, "alice", 300, "w2"); err != nil || a.Balance != 700 {
		t.Fatalf("repeated withdraw: %v %+v", err, a)
	}
	_, err = svc.Account(ctx, "nobody")
	Code(t, err, offpay.ENOTFOUND)
	_, err = svc.Statement(ctx, "nobody")
	Code(t, err, offpay.ENOTFOUND)
	lines, err := svc.Statement(ctx, "alice")
	if err != nil || len(lines) != 2 {
		t.Fatalf("statement: %v %+v", err, lines)
	}
	if lines[0].Kind != "deposit" || lines[0].Amount != 1000 || lines[1].Kind != "withdraw" || lines[1].Amount != -300 || lines[1].Balance != 700 {
		t.Fatalf("statement lines: %+v", lines)
	}
	r := e.Conserved()
	if r.Issued != 700 || r.Accounts != 700 {
		t.Fatalf("report: %+v", r)
	}
}

func testEnrol(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 0)
	e.Account("shop", true, 0)
	a := e.Device("enrol-a", "alice")
	m := e.Device("enrol-m", "shop")
	root, issuer := e.Svc.Trust()
	trust, err := protocol.NewTrust(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := trust.AddIssuer(issuer); err != nil {
		t.Fatal(err)
	}
	now := uint64(e.Now().Unix())
	for _, c := range []*protocol.Certificate{a.Cert, m.Cert} {
		if err := trust.VerifyDevice(c, now, nil); err != nil {
			t.Fatalf("device certificate does not verify: %v", err)
		}
	}
	if a.Cert.Account != "alice" || a.Cert.Currency != "EUR" || a.Cert.ID() != a.ID {
		t.Fatalf("certificate fields: %+v", a.Cert)
	}
	if a.Cert.Limits == m.Cert.Limits {
		t.Fatalf("merchant and person got the same limits")
	}
	// Enrolling again returns the same certificate.
	en, err := e.Svc.Enrol(e.Ctx, e.enrolment(a, "alice"))
	if err != nil || string(en.Device.Marshal()) != string(a.Cert.Marshal()) {
		t.Fatalf("re-enrol: %v", err)
	}
	_, err = e.Svc.Enrol(e.Ctx, e.enrolment(a, "shop"))
	Code(t, err, offpay.ECONFLICT)
	_, err = e.Svc.Enrol(e.Ctx, e.enrolment(e.newDev("enrol-x"), "nobody"))
	Code(t, err, offpay.ENOTFOUND)
	req := e.enrolment(e.newDev("enrol-y"), "alice")
	req.Sig[0] ^= 1
	_, err = e.Svc.Enrol(e.Ctx, req)
	Code(t, err, offpay.EUNAUTHORIZED)
	// A request signed by another key than the one it names.
	req = e.enrolment(e.newDev("enrol-z"), "alice")
	req.Key = e.newDev("enrol-w").Key.PublicKey()
	_, err = e.Svc.Enrol(e.Ctx, req)
	Code(t, err, offpay.EUNAUTHORIZED)
}

func testReserve(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	a := e.Device("res-a", "alice")
	req := a.Reserve(300, 1)
	l1, err := e.Svc.Reserve(e.Ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_, issuer := e.Svc.Trust()
	if err := l1.Verify(issuer); err != nil || l1.Device != a.ID || l1.Seq != 1 || l1.Amount != 300 {
		t.Fatalf("load: %v %+v", err, l1)
	}
	// The retried request (lost response) returns the same Load, one debit.
	l2, err := e.Svc.Reserve(e.Ctx, req)
	if err != nil || string(l2.Marshal()) != string(l1.Marshal()) {
		t.Fatalf("retried reserve: %v", err)
	}
	if b := e.Balance("alice"); b != 700 {
		t.Fatalf("balance %d after retried reserve, want 700", b)
	}
	// Same id, other amount: conflict.
	other := a.Reserve(200, 1)
	_, err = e.Svc.Reserve(e.Ctx, other)
	Code(t, err, offpay.ECONFLICT)
	// Insufficient funds, bad signature, unknown device.
	_, err = e.Svc.Reserve(e.Ctx, a.Reserve(701, 2))
	Code(t, err, offpay.ELIMIT)
	bad := a.Reserve(10, 3)
	bad.Sig[5] ^= 1
	_, err = e.Svc.Reserve(e.Ctx, bad)
	Code(t, err, offpay.EUNAUTHORIZED)
	_, err = e.Svc.Reserve(e.Ctx, e.newDev("res-x").Reserve(10, 1))
	Code(t, err, offpay.EUNAUTHORIZED)
	// A load the device never applied comes back in its next SyncResult.
	l3, err := e.Svc.Reserve(e.Ctx, a.Reserve(100, 4))
	if err != nil || l3.Seq != 2 {
		t.Fatalf("second reserve: %v %+v", err, l3)
	}
	a.ApplyLoad(l1)
	res := e.SyncAll(a)
	if len(res.Loads) != 1 || string(res.Loads[0].Marshal()) != string(l3.Marshal()) {
		t.Fatalf("sync result loads: %+v", res.Loads)
	}
	if d := e.Dev(a); d.Loaded != 400 || d.Position != 400 {
		t.Fatalf("device report: %+v", d)
	}
	if b := e.Balance("alice"); b != 600 {
		t.Fatalf("balance %d, want 600", b)
	}
	// An expired device may still settle its log but gets no new money.
	e.Advance(3 * 365 * 24 * time.Hour)
	_, err = e.Svc.Reserve(e.Ctx, a.Reserve(10, 5))
	Code(t, err, offpay.EFORBIDDEN)
	a.ApplyLoad(l3)
	if r := e.SyncAll(a); r.Acked != 2 || len(r.Loads) != 0 {
		t.Fatalf("expired device's sync: %+v", r)
	}
}
