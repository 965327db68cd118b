package storetest

import (
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// testDoubleSpend: a cloned SE pays two payees with the same counter. In
// every upload order the proof is stored, the device revoked, its account
// frozen, both payees honoured and the overspend recovered then lost.
func testDoubleSpend(t *testing.T, open Opener) {
	for _, order := range []string{"a,a2,b,c", "b,c,a,a2", "c,a,b,a2", "a2,c,b,a"} {
		t.Run(order, func(t *testing.T) {
			e := NewEnv(t, open)
			e.Account("alice", false, 150)
			e.Account("bob", false, 0)
			e.Account("carol", false, 0)
			a, b, c := e.Device("ds-a", "alice"), e.Device("ds-b", "bob"), e.Device("ds-c", "carol")
			e.Load(a, 100)
			a2 := a.Clone()
			b.Receive(a.Pay(b.ID, 80))
			c.Receive(a2.Pay(c.ID, 80))
			devs := map[string]*ledgertest.Device{"a": a, "a2": a2, "b": b, "c": c}
			for _, name := range splitComma(order) {
				d := devs[name]
				_, err := e.Svc.Sync(e.Ctx, d.UploadAll())
				if err != nil && (d != a && d != a2 || offpay.ErrorCode(err) != offpay.EFORBIDDEN) {
					t.Fatalf("sync %s: %v", name, err)
				}
			}
			r := e.Conserved()
			if len(r.DoubleSpends) != 1 || r.DoubleSpends[0].Device != a.ID.String() || r.DoubleSpends[0].Counter != 2 {
				t.Fatalf("proofs: %+v", r.DoubleSpends)
			}
			checkProof(t, a.Cert, r.DoubleSpends[0].EntryA, r.DoubleSpends[0].EntryB, b.Cert, c.Cert)
			if len(r.RevokedDevices) != 1 || r.RevokedDevices[0] != a.ID.String() {
				t.Fatalf("revoked: %v", r.RevokedDevices)
			}
			if acc, _ := e.Svc.Account(e.Ctx, "alice"); !acc.Frozen || acc.Balance != 0 {
				t.Fatalf("alice: %+v", acc)
			}
			if e.Dev(b).Position != 80 || e.Dev(c).Position != 80 {
				t.Fatalf("payees not both honoured: %+v %+v", e.Dev(b), e.Dev(c))
			}
			if r.Recovered != 50 || r.Losses != 10 {
				t.Fatalf("recovered %d lost %d, want 50 and 10", r.Recovered, r.Losses)
			}
			rl, err := e.Svc.RevocationList(e.Ctx)
			if err != nil || !rl.IsRevoked(a.ID) {
				t.Fatalf("revocation list: %v %+v", err, rl)
			}
			_, err = e.Svc.Reserve(e.Ctx, a.Reserve(10, 99))
			Code(t, err, offpay.EFORBIDDEN)
			_, err = e.Svc.Sync(e.Ctx, a.UploadAll())
			Code(t, err, offpay.EFORBIDDEN)
		})
	}
}

// checkProof verifies a stored proof on its own, as a third party would:
// two different entries, each validly signed by its own device (cert or
// one of others), that name the same payer counter differently: an entry
// of the device itself, or a payee's receive entry whose payment the
// device signed.
func checkProof(t *testing.T, cert *protocol.Certificate, ea, eb []byte, others ...*protocol.Certificate) {
	t.Helper()
	var x, y protocol.LogEntry
	if err := protocol.Unmarshal(ea, &x); err != nil {
		t.Fatal(err)
	}
	if err := protocol.Unmarshal(eb, &y); err != nil {
		t.Fatal(err)
	}
	if x.Hash() == y.Hash() {
		t.Fatalf("proof entries are identical")
	}
	for _, en := range []*protocol.LogEntry{&x, &y} {
		var signer *protocol.Certificate
		for _, c := range append([]*protocol.Certificate{cert}, others...) {
			if c.ID() == en.Device {
				signer = c
			}
		}
		if signer == nil {
			t.Fatalf("proof entry of unexpected device %v", en.Device)
		}
		if err := en.Verify(signer); err != nil {
			t.Fatalf("proof entry's own signature: %v", err)
		}
		if en.Device == cert.ID() {
			continue
		}
		var bu protocol.PaymentBundle
		if en.Kind != protocol.EntryReceive || protocol.Unmarshal(en.Body, &bu) != nil {
			t.Fatalf("proof entry of another device is not a receive entry")
		}
		if err := bu.Payment.Verify(cert); err != nil {
			t.Fatalf("payment in proof is not the device's: %v", err)
		}
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// testOverspend: a broken SE pays beyond its purse. The overspend is
// recovered from its owner's account as far as it goes, the rest is a
// loss, and a later deposit pays the loss down.
func testOverspend(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 70)
	e.Account("bob", false, 0)
	a, b := e.Device("o-a", "alice"), e.Device("o-b", "bob")
	e.Load(a, 50)
	b.Receive(a.Pay(b.ID, 80))
	e.SyncAll(b)
	if r := e.Conserved(); r.Losses != 0 || r.Recovered != 0 {
		t.Fatalf("overspend assumed before the payer's log was seen: %+v", r)
	}
	e.SyncAll(a)
	r := e.Conserved()
	if r.Recovered != 20 || r.Losses != 10 || e.Balance("alice") != 0 {
		t.Fatalf("recovered %d lost %d balance %d, want 20, 10, 0", r.Recovered, r.Losses, e.Balance("alice"))
	}
	if e.Dev(b).Position != 80 {
		t.Fatalf("payee not honoured")
	}
	if _, err := e.Svc.Deposit(e.Ctx, "alice", 100, "top-up"); err != nil {
		t.Fatal(err)
	}
	r = e.Conserved()
	if r.Recovered != 30 || r.Losses != 0 || e.Balance("alice") != 90 {
		t.Fatalf("after deposit: recovered %d lost %d balance %d", r.Recovered, r.Losses, e.Balance("alice"))
	}
	lines, _ := e.Svc.Statement(e.Ctx, "alice")
	var rec int64
	for _, l := range lines {
		if l.Kind == "recovery" {
			rec += l.Amount
		}
	}
	if rec != -30 {
		t.Fatalf("recovery lines sum %d, want -30: %+v", rec, lines)
	}
}

// testOrderArtefact: a payer spent money it had received; its payee syncs
// first. Its position is negative for a while, but no overspend is
// assumed until its own log shows there was none.
func testOrderArtefact(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 30)
	e.Account("bob", false, 0)
	e.Account("carol", false, 50)
	a, b, c := e.Device("oa-a", "alice"), e.Device("oa-b", "bob"), e.Device("oa-c", "carol")
	e.Load(c, 50)
	e.Load(a, 30)
	a.Receive(c.Pay(a.ID, 50))
	b.Receive(a.Pay(b.ID, 80))
	e.SyncAll(b)
	if d := e.Dev(a); d.Position != -50 {
		t.Fatalf("provisional position %+v", d)
	}
	if r := e.Conserved(); r.Losses != 0 || r.Recovered != 0 {
		t.Fatalf("overspend assumed: %+v", r)
	}
	// The ledger knows a's counter 3 exists (bob showed it): a partial
	// upload is asked for the rest.
	if res := e.Sync(a, 1, 1); len(res.Missing) != 2 || res.Missing[0] != 2 || res.Missing[1] != 3 {
		t.Fatalf("missing after a partial upload: %v", res.Missing)
	}
	res := e.SyncAll(a)
	if len(res.Missing) != 0 {
		t.Fatalf("missing %v", res.Missing)
	}
	if d := e.Dev(a); d.Position != 0 {
		t.Fatalf("position after the payer's sync %+v", d)
	}
	e.SyncAll(c)
	if r := e.Conserved(); r.Losses != 0 || r.Recovered != 0 || e.Balance("alice") != 0 {
		t.Fatalf("report %+v", r)
	}
}
