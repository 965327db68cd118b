package fedtest

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
	"testing"
)

// TestCrossProvider: a payer enrolled at A pays a payee enrolled at B
// offline (the payee's SE verifies the payer through the scheme's root);
// B settles the payee's upload and forwards the evidence to A, which
// settles the payer side; A owes B the amount; clearing nets it and the
// federation's conservation holds.
func TestCrossProvider(t *testing.T) {
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	pay(t, alice, bob, 1500)
	bob.sync(t)
	if n := f.deliver(); n != 1 {
		t.Fatalf("forwarded %d payments, want 1", n)
	}
	alice.sync(t)
	assertObligations(t, f, "bankA", "bankB", 1500, 0)
	assertObligations(t, f, "bankB", "bankA", 0, 1500)
	if r := f.report("bankA"); !r.ConservationOK || r.Clearing != 1500 {
		t.Fatalf("bankA report: ok %v clearing %d", r.ConservationOK, r.Clearing)
	}
	if r := f.report("bankB"); !r.ConservationOK || r.Clearing != -1500 {
		t.Fatalf("bankB report: ok %v clearing %d", r.ConservationOK, r.Clearing)
	}
	c, err := f.node.Clear(f.statements())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Federation.Holds || len(c.Transfers) != 1 || c.Transfers[0].Amount != 1500 || c.Transfers[0].From != "bankA" {
		t.Fatalf("cycle: %+v", c)
	}
	var sum int64
	for _, p := range c.Positions {
		sum += p.Net
	}
	if sum != 0 {
		t.Fatalf("positions sum to %d", sum)
	}
}

func assertObligations(t *testing.T, f *fed, at, with string, owe, due int64) {
	t.Helper()
	obs, err := f.ps[at].svc.Obligations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if o.Provider == with {
			if o.Owe != owe || o.Due != due {
				t.Fatalf("%s with %s: owe %d due %d, want %d %d", at, with, o.Owe, o.Due, owe, due)
			}
			return
		}
	}
	if owe != 0 || due != 0 {
		t.Fatalf("%s has no obligations with %s: %+v", at, with, obs)
	}
}

// TestBothWaysAndOnward: payments cross in both directions, and value
// received from another provider is spent onward to a third (consecutive
// offline payments across providers: bob pays carol from alice's money).
// Every provider's reconciliation holds, each obligation is seen alike by
// both sides, and the cycle's net positions sum to zero.
func TestBothWaysAndOnward(t *testing.T) {
	f := newFed(t, "bankA", "bankB", "bankC")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 100000, 5000)
	carol := f.wallet("bankC", "carol", false, 0, 0)
	dave := f.wallet("bankA", "dave", false, 0, 0)
	pay(t, alice, bob, 3000) // A -> B
	pay(t, bob, dave, 700)   // B -> A
	pay(t, bob, carol, 7000) // B -> C: more than bob loaded, so partly alice's value (hops 2)
	pay(t, alice, carol, 10) // A -> C
	for _, m := range []*member{carol, dave, bob, alice} {
		m.sync(t)
	}
	if n := f.deliver(); n != 4 {
		t.Fatalf("forwarded %d, want 4", n)
	}
	assertObligations(t, f, "bankA", "bankB", 3000, 700)
	assertObligations(t, f, "bankA", "bankC", 10, 0)
	assertObligations(t, f, "bankB", "bankA", 700, 3000)
	assertObligations(t, f, "bankB", "bankC", 7000, 0)
	assertObligations(t, f, "bankC", "bankA", 0, 10)
	assertObligations(t, f, "bankC", "bankB", 0, 7000)
	c, err := f.node.Clear(f.statements())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"bankA": 700 - 3000 - 10, "bankB": 3000 - 700 - 7000, "bankC": 7010}
	var sum int64
	for _, p := range c.Positions {
		if p.Net != want[p.Provider] {
			t.Fatalf("%s net %d, want %d", p.Provider, p.Net, want[p.Provider])
		}
		sum += p.Net
	}
	if sum != 0 || !c.Federation.Holds || c.Federation.Clearing != 0 {
		t.Fatalf("cycle %+v", c)
	}
	// The next cycle counts only what came after this one.
	pay(t, alice, bob, 100)
	bob.sync(t)
	f.deliver()
	c, err = f.node.Clear(f.statements())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Transfers) != 1 || c.Transfers[0] != (scheme.Transfer{From: "bankA", To: "bankB", Amount: 100}) || !c.Federation.Holds {
		t.Fatalf("second cycle %+v", c)
	}
}

// TestInFlightIsAMismatch: until the evidence reaches the payer's
// provider, the two sides disagree and the federation does not hold;
// once delivered, it does.
func TestInFlightIsAMismatch(t *testing.T) {
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	pay(t, alice, bob, 1500)
	bob.sync(t)
	c, err := f.node.Clear(f.statements())
	if err != nil {
		t.Fatal(err)
	}
	if c.Federation.Holds || len(c.Mismatches) != 1 || c.Mismatches[0] != (scheme.Mismatch{From: "bankA", To: "bankB", Owe: 0, Due: 1500}) {
		t.Fatalf("cycle with evidence in flight: %+v", c)
	}
	f.deliver()
	if c, err = f.node.Clear(f.statements()); err != nil || !c.Federation.Holds {
		t.Fatalf("cycle after delivery: %+v %v", c, err)
	}
}

// TestDeliveredTwice: the same evidence settles once.
func TestDeliveredTwice(t *testing.T) {
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	pay(t, alice, bob, 1500)
	bob.sync(t)
	rows, err := f.ps["bankB"].svc.PendingForwards(ctx, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d forwards, %v", len(rows), err)
	}
	a := f.ps["bankA"].svc
	first, err := a.SettleForwarded(ctx, rows[0].Data)
	if err != nil || first.Duplicate || first.Status != protocol.StatusSettled {
		t.Fatalf("first delivery: %+v %v", first, err)
	}
	before := state(t, f, "bankA")
	for i := 0; i < 3; i++ {
		again, err := a.SettleForwarded(ctx, rows[0].Data)
		if err != nil || !again.Duplicate || again.Payment != first.Payment {
			t.Fatalf("delivery %d: %+v %v", i+2, again, err)
		}
	}
	if after := state(t, f, "bankA"); after != before {
		t.Fatalf("a repeated delivery changed bankA")
	}
	alice.sync(t) // the payer's own upload of it changes nothing either
	assertObligations(t, f, "bankA", "bankB", 1500, 0)
	if r := f.report("bankA"); !r.ConservationOK {
		t.Fatal("bankA does not reconcile")
	}
}

// TestDoubleSpendAcrossProviders: alice's SE is copied after its load;
// the original pays bob (bankB), the copy pays carol (bankC) with the same
// counter. Alice never syncs: her provider sees the double spend from the
// two payees' evidence alone, stores the proof, revokes her, honours both
// payments (the payees accepted them offline) and recovers the overspend
// from her account. Both payees' providers are paid by bankA.
func TestDoubleSpendAcrossProviders(t *testing.T) {
	f := newFed(t, "bankA", "bankB", "bankC")
	alice := f.wallet("bankA", "alice", false, 100000, 6000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	carol := f.wallet("bankC", "carol", false, 0, 0)
	saved := snapshot(t, alice.dir)
	pay(t, alice, bob, 5000)
	restore(t, alice.dir, saved)
	f.reopen(alice)
	pay(t, alice, carol, 5000)
	bob.sync(t)
	carol.sync(t)
	if n := f.deliver(); n != 2 {
		t.Fatalf("forwarded %d, want 2", n)
	}
	r := f.report("bankA")
	if len(r.DoubleSpends) != 1 || len(r.RevokedDevices) != 1 || r.RevokedDevices[0] != alice.w.SE().Certificate().ID().String() {
		t.Fatalf("bankA: double spends %d, revoked %v", len(r.DoubleSpends), r.RevokedDevices)
	}
	if !r.ConservationOK || r.Recovered != 4000 {
		t.Fatalf("bankA: ok %v recovered %d", r.ConservationOK, r.Recovered)
	}
	if got := f.balance("bankA", "alice"); got != 100000-6000-4000 {
		t.Fatalf("alice's account %d", got)
	}
	assertObligations(t, f, "bankA", "bankB", 5000, 0)
	assertObligations(t, f, "bankA", "bankC", 5000, 0)
	c, err := f.node.Clear(f.statements())
	if err != nil || !c.Federation.Holds {
		t.Fatalf("cycle %+v %v", c, err)
	}
}
