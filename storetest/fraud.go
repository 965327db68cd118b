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
// two different statements the device (cert) signed for one counter, each
// inside an entry validly signed by its own device (cert or one of
// others): an entry of the device itself, a payee's receive entry whose
// payment the device signed with that counter, or a payer's confirm
// entry carrying a receipt the device signed naming that counter.
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
	var said [2]protocol.Hash // what each statement says the counter holds
	var counters [2]uint64
	for i, en := range []*protocol.LogEntry{&x, &y} {
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
			said[i], counters[i] = en.Hash(), en.Counter
			if en.Kind == protocol.EntryReceive {
				var bu protocol.PaymentBundle
				if protocol.Unmarshal(en.Body, &bu) == nil {
					said[i] = bu.Payment.ID() // a receipt names the payment, not the entry
				}
			}
			continue
		}
		switch en.Kind {
		case protocol.EntryReceive:
			var bu protocol.PaymentBundle
			if protocol.Unmarshal(en.Body, &bu) != nil || bu.Payment.Verify(cert) != nil {
				t.Fatalf("receive entry in proof does not carry the device's payment")
			}
			said[i], counters[i] = en.Hash(), bu.Payment.Counter
		case protocol.EntryConfirm:
			var rc protocol.Receipt
			if protocol.Unmarshal(en.Body, &rc) != nil || rc.Payee != cert.ID() {
				t.Fatalf("confirm entry in proof does not carry the device's receipt")
			}
			if err := protocol.VerifySignature(cert.KeyAlg, cert.Key, rc.SigningInput(), rc.Sig); err != nil {
				t.Fatalf("receipt in proof is not the device's: %v", err)
			}
			said[i], counters[i] = rc.Payment, rc.Counter
		default:
			t.Fatalf("proof entry of another device is neither a receive nor a confirm entry")
		}
	}
	if counters[0] != counters[1] {
		t.Fatalf("proof statements name counters %d and %d", counters[0], counters[1])
	}
	receipt := x.Device != cert.ID() && x.Kind == protocol.EntryConfirm || y.Device != cert.ID() && y.Kind == protocol.EntryConfirm
	if receipt && said[0] == said[1] {
		t.Fatalf("proof statements agree")
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

// testOverspend: a broken SE pays beyond its purse. Once its own log
// shows it, the device is revoked and its account frozen; the overspend
// is recovered from the account as far as it goes, the rest is a loss,
// and a later deposit pays the loss down.
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
	// Its own log proves the overspend: recorded, then revoked.
	_, err := e.Svc.Sync(e.Ctx, a.UploadAll())
	Code(t, err, offpay.EFORBIDDEN)
	r := e.Conserved()
	if !revokedIn(r, a) || !e.frozen("alice") {
		t.Fatalf("a proven overspender is not revoked and frozen")
	}
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

// testSamePayeeTwice: two copies of a cloned payer pay the same payee with
// one counter, far enough apart that the payee's SE no longer remembers
// the first. The payee's log holds two payments with one payer counter:
// it is not refused (the payee is honest); the payer is proven a double
// spender, revoked, and both payments are honoured.
func testSamePayeeTwice(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("mal", false, 100)
	e.Account("bob", false, 0)
	a, b := e.Device("sp-a", "mal"), e.Device("sp-b", "bob")
	e.Load(a, 50)
	a2 := a.Clone()
	b.Receive(a.Pay(b.ID, 40))
	b.Receive(a2.Pay(b.ID, 30))
	r := e.SyncAll(b)
	if r.Acked != b.Counter() {
		t.Fatalf("honest payee's log refused: acked %d of %d", r.Acked, b.Counter())
	}
	rep := e.Conserved()
	if len(rep.DoubleSpends) != 1 || rep.DoubleSpends[0].Device != a.ID.String() || !revokedIn(rep, a) {
		t.Fatalf("proofs %+v revoked %v", rep.DoubleSpends, rep.RevokedDevices)
	}
	checkProof(t, a.Cert, rep.DoubleSpends[0].EntryA, rep.DoubleSpends[0].EntryB, b.Cert)
	if d := e.Dev(b); d.Received != 70 {
		t.Fatalf("bob credited %d, want 70", d.Received)
	}
	if rep.Recovered != 20 {
		t.Fatalf("recovered %d, want 20", rep.Recovered)
	}
}
