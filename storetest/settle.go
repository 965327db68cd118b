package storetest

import (
	"reflect"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

func statusOf(r *protocol.SyncResult, pid protocol.Hash) uint8 {
	for _, s := range r.Statuses {
		if s.Payment == pid {
			return s.Status
		}
	}
	return 0
}

// testSettle: alice pays bob (a person) 30 and the shop 20; the payments
// are uploaded by the payer only (with the payees' receipts in confirm
// entries: see claims.go for payer-only uploads without them), the payees
// only, or both (payer first: pending until the payees claim them).
func testSettle(t *testing.T, open Opener, by string) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("shop", true, 0)
	a, b, m := e.Device("s-a", "alice"), e.Device("s-b", "bob"), e.Device("s-m", "shop")
	e.Load(a, 100)
	pb := a.Pay(b.ID, 30)
	pm := a.Pay(m.ID, 20)
	b.Receive(pb)
	m.Receive(pm)
	if by == "payer" {
		a.Confirm(b.Receipt(pb))
		a.Confirm(m.Receipt(pm))
		r := e.SyncAll(a)
		if r.Acked != 5 || statusOf(r, pb.Payment.ID()) != protocol.StatusSettled || statusOf(r, pm.Payment.ID()) != protocol.StatusSettled {
			t.Fatalf("payer's result: %+v", r)
		}
	}
	if by == "both" {
		r := e.SyncAll(a)
		if r.Acked != 3 || statusOf(r, pb.Payment.ID()) != protocol.StatusPending || statusOf(r, pm.Payment.ID()) != protocol.StatusPending {
			t.Fatalf("payer's result: %+v", r)
		}
	}
	if by == "payee" || by == "both" {
		if r := e.SyncAll(b); statusOf(r, pb.Payment.ID()) != protocol.StatusSettled {
			t.Fatalf("bob's result: %+v", r)
		}
		if r := e.SyncAll(m); statusOf(r, pm.Payment.ID()) != protocol.StatusSettled {
			t.Fatalf("shop's result: %+v", r)
		}
	}
	if by == "payee" || by == "both" {
		// The payer syncs last and learns both payments settled.
		r := e.SyncAll(a)
		if statusOf(r, pb.Payment.ID()) != protocol.StatusSettled || statusOf(r, pm.Payment.ID()) != protocol.StatusSettled || len(r.Missing) != 0 {
			t.Fatalf("payer's late result: %+v", r)
		}
	}
	if d := e.Dev(a); d.Sent != 50 || d.Position != 50 {
		t.Fatalf("payer: %+v", d)
	}
	// A person's receipt stays in the purse; a merchant's sweeps to its account.
	if d := e.Dev(b); d.Received != 30 || d.Position != 30 {
		t.Fatalf("bob: %+v", d)
	}
	if d := e.Dev(m); d.Received != 20 || d.Swept != 20 || d.Position != 0 {
		t.Fatalf("shop device: %+v", d)
	}
	if got := e.Balance("shop"); got != 20 {
		t.Fatalf("shop balance %d, want 20", got)
	}
	if r := e.Conserved(); r.Settled != 2 {
		t.Fatalf("settled %d payments, want 2", r.Settled)
	}
}

// testResend: a lost SyncResult makes the device upload the same entries
// again; nothing is recorded twice.
func testResend(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a, m := e.Device("r-a", "alice"), e.Device("r-m", "shop")
	e.Load(a, 100)
	m.Receive(a.Pay(m.ID, 10))
	e.SyncAll(a)
	m.Receive(a.Pay(m.ID, 15))
	r := e.SyncAll(a) // entries 1..2 again, 3 new
	if r.Acked != 3 {
		t.Fatalf("acked %d", r.Acked)
	}
	e.SyncAll(a)
	e.Sync(a, 2, 3)
	if d := e.Dev(a); d.Sent != 25 || d.Loaded != 100 {
		t.Fatalf("after resends: %+v", d)
	}
	if got := e.Balance("shop"); got != 0 {
		t.Fatalf("shop %d before its claims", got)
	}
	e.SyncAll(m)
	e.SyncAll(m)
	if got := e.Balance("shop"); got != 25 {
		t.Fatalf("shop %d", got)
	}
}

// testMalformed: each bad upload is refused with a clear code and leaves
// the ledger exactly as it was.
func testMalformed(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a, m := e.Device("m-a", "alice"), e.Device("m-m", "shop")
	other := e.Device("m-o", "alice")
	e.Load(a, 100)
	a.Pay(m.ID, 10)
	e.Sync(a, 1, 1)
	a.Pay(m.ID, 20)
	before := e.Conserved()
	cases := []struct {
		name string
		up   func() *protocol.SyncUpload
		code offpay.Code
	}{
		{"entry signature changed without the SE", func() *protocol.SyncUpload {
			// The upload's signature covers every entry's signature: a
			// third party cannot change one (evidence.go: the SE can).
			u := a.UploadAll()
			u.Entries[2].Sig[3] ^= 1
			return u
		}, offpay.EUNAUTHORIZED},
		{"upload signature", func() *protocol.SyncUpload {
			u := a.UploadAll()
			u.Sig[0] ^= 1
			return u
		}, offpay.EUNAUTHORIZED},
		{"upload signed by another device", func() *protocol.SyncUpload { return other.Sign(a.UploadAll()) }, offpay.EUNAUTHORIZED},
		{"entries of another device", func() *protocol.SyncUpload {
			u := a.UploadAll()
			u.Device = other.ID
			return other.Sign(u)
		}, offpay.EINVALID},
		{"broken chain", func() *protocol.SyncUpload {
			u := a.UploadAll()
			u.Entries[2].Prev[0] ^= 1
			return a.Sign(u)
		}, offpay.EINVALID},
		{"gap: the ledger answers behind, naming its counter", func() *protocol.SyncUpload { return a.Upload(3, 3) }, offpay.EBEHIND},
		{"counters not consecutive", func() *protocol.SyncUpload {
			u := a.UploadAll()
			u.Entries = append(u.Entries[:1], u.Entries[2:]...)
			return a.Sign(u)
		}, offpay.EINVALID},
		{"payment counter differs from its entry", func() *protocol.SyncUpload {
			c := a.Clone()
			p := protocol.Payment{Version: protocol.Version, Payer: c.ID, Payee: m.ID, Amount: 5, Currency: "EUR", Counter: 99, Hops: 1}
			if err := p.Sign(c.Key); err != nil {
				t.Fatal(err)
			}
			c.Append(protocol.EntryPay, p.Marshal())
			return c.UploadAll()
		}, offpay.EINVALID},
		{"load the ledger never signed", func() *protocol.SyncUpload {
			// (A load it signed and no longer holds is one it lost, and is
			// restored: recovery.go, LedgerBehind.)
			c := a.Clone()
			k := testKeys(t)
			l := protocol.Load{Version: protocol.Version, Device: c.ID, Seq: 2, Amount: 500, Currency: "EUR", Time: 1, Signer: k.Issuer.ID()}
			if err := l.Sign(prototest.Ed25519Key("not the issuer")); err != nil {
				t.Fatal(err)
			}
			c.ApplyLoad(&l)
			return c.UploadAll()
		}, offpay.EINVALID},
		{"sync entry of another device", func() *protocol.SyncUpload {
			c := a.Clone()
			body := protocol.SyncApplied{Version: protocol.Version, Device: other.ID, Time: 1 << 40}
			c.Append(protocol.EntrySync, body.Marshal())
			return c.UploadAll()
		}, offpay.EINVALID},
		{"sync entry that is no SyncApplied", func() *protocol.SyncUpload {
			c := a.Clone()
			c.Append(protocol.EntrySync, []byte{0x80})
			return c.UploadAll()
		}, offpay.EINVALID},
		{"unknown device", func() *protocol.SyncUpload { return e.newDev("m-x").UploadAll() }, offpay.EUNAUTHORIZED},
		{"version", func() *protocol.SyncUpload {
			u := a.UploadAll()
			u.Version = 9
			return a.Sign(u)
		}, offpay.EINVALID},
	}
	for _, c := range cases {
		_, err := e.Svc.Sync(e.Ctx, c.up())
		Code(t, err, c.code)
		if after := e.Conserved(); !reflect.DeepEqual(before, after) {
			t.Fatalf("%s changed the ledger:\n%+v\n%+v", c.name, before, after)
		}
	}
	e.SyncAll(a)
	if d := e.Dev(a); d.Sent != 30 {
		t.Fatalf("good upload after bad ones: %+v", d)
	}
}

// testRedeem: purse value goes back to the account.
func testRedeem(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	a, b := e.Device("rd-a", "alice"), e.Device("rd-b", "bob")
	e.Load(a, 100)
	b.Receive(a.Pay(b.ID, 60))
	b.Redeem(45)
	e.SyncAll(b)
	if got := e.Balance("bob"); got != 45 {
		t.Fatalf("bob %d", got)
	}
	if d := e.Dev(b); d.Received != 60 || d.Redeemed != 45 || d.Position != 15 {
		t.Fatalf("bob device %+v", d)
	}
	// The payer has not synced: its position is provisional but no
	// overspend is assumed.
	if d := e.Dev(a); d.Position != 40 {
		t.Fatalf("alice device %+v", d)
	}
	e.SyncAll(a)
	if r := e.Conserved(); r.Losses != 0 || r.Recovered != 0 {
		t.Fatalf("report %+v", r)
	}
}

// testPendingPayee: a payment to a device that enrols later is credited
// at its enrolment.
func testPendingPayee(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a := e.Device("p-a", "alice")
	e.Load(a, 100)
	late := e.newDev("p-late")
	p := a.Pay(late.ID, 25)
	r := e.SyncAll(a)
	if statusOf(r, p.Payment.ID()) != protocol.StatusPending {
		t.Fatalf("status %+v", r.Statuses)
	}
	if rep := e.Conserved(); rep.Settled != 0 || rep.Outstanding != 100 {
		t.Fatalf("pending payment in the report: %+v", rep)
	}
	m := e.Device("p-late", "shop")
	if got := e.Balance("shop"); got != 25 {
		t.Fatalf("shop %d after enrolment", got)
	}
	if rep := e.Conserved(); rep.Settled != 1 {
		t.Fatalf("settled %d after the payee enrolled", rep.Settled)
	}
	m.Receive(p)
	if r := e.SyncAll(m); statusOf(r, p.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("status %+v", r.Statuses)
	}
	if got := e.Balance("shop"); got != 25 {
		t.Fatalf("shop %d after its upload", got)
	}
}
