package storetest

import (
	"strings"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// lineKinds counts an account's statement lines by kind.
func (e *Env) lineKinds(account string) map[string]int64 {
	e.T.Helper()
	ls, err := e.Svc.Statement(e.Ctx, account)
	if err != nil {
		e.T.Fatal(err)
	}
	out := map[string]int64{}
	for _, l := range ls {
		out[l.Kind] += l.Amount
	}
	return out
}

// syncedAt makes d log that it applied a sync result of ledger time t (no
// sweep), as its SE does after a sync; the result need not be genuine:
// the ledger trusts the SE's signed entry.
func syncedAt(d *ledgertest.Device, t uint64) {
	d.ApplySync(&protocol.SyncResult{Version: protocol.Version, Device: d.ID, Time: t, Swept: d.Swept})
}

// testClaimByPayee: a payment uploaded by its payer alone awaits its
// payee's claim: the payer is debited, the payee not credited, and the
// value counts as outstanding. The payee's upload claims it once.
func testClaimByPayee(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("shop", true, 0)
	a, b, m := e.Device("cl-a", "alice"), e.Device("cl-b", "bob"), e.Device("cl-m", "shop")
	e.Load(a, 100)
	pb, pm := a.Pay(b.ID, 30), a.Pay(m.ID, 20)
	before := e.Conserved()
	r := e.SyncAll(a)
	if statusOf(r, pb.Payment.ID()) != protocol.StatusPending || statusOf(r, pm.Payment.ID()) != protocol.StatusPending {
		t.Fatalf("payer's result: %+v", r.Statuses)
	}
	rep := e.Conserved()
	if rep.Settled != 0 || rep.Outstanding != before.Outstanding || e.Dev(a).Position != 50 || e.Dev(b).Received != 0 || e.Balance("shop") != 0 {
		t.Fatalf("after the payer's upload: %+v", rep)
	}
	// Nothing new in the payer's log: it still learns they are pending.
	if r := e.SyncAll(a); statusOf(r, pb.Payment.ID()) != protocol.StatusPending {
		t.Fatalf("payer's second result: %+v", r.Statuses)
	}
	b.Receive(pb)
	m.Receive(pm)
	for range 2 { // the second time is a resend: nothing twice
		if r := e.SyncAll(b); statusOf(r, pb.Payment.ID()) != protocol.StatusSettled {
			t.Fatalf("bob's result: %+v", r.Statuses)
		}
		if r := e.SyncAll(m); statusOf(r, pm.Payment.ID()) != protocol.StatusSettled || r.Swept != 20 {
			t.Fatalf("shop's result: %+v", r)
		}
	}
	if d := e.Dev(b); d.Received != 30 || d.Position != 30 {
		t.Fatalf("bob %+v", d)
	}
	if got := e.Balance("shop"); got != 20 {
		t.Fatalf("shop %d", got)
	}
	if rep := e.Conserved(); rep.Settled != 2 || rep.Outstanding != before.Outstanding-20 {
		t.Fatalf("after the claims (the shop's 20 swept): %+v", rep)
	}
	// The payer's next result names both settled: its SE drops them.
	if r := e.SyncAll(a); statusOf(r, pb.Payment.ID()) != protocol.StatusSettled || statusOf(r, pm.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("payer's late result: %+v", r.Statuses)
	}
}

// testClaimByReceipt: a confirm entry in the payer's log claims the
// payment if its receipt names the payment and its payee and verifies
// under the payee's key; forged or misdirected receipts claim nothing.
func testClaimByReceipt(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	a, b, c := e.Device("cr-a", "alice"), e.Device("cr-b", "bob"), e.Device("cr-c", "carol")
	e.Load(a, 100)
	p1 := a.Pay(b.ID, 10)
	e.SyncAll(a) // pending; the receipt comes in a later upload
	b.Receive(p1)
	a.Confirm(b.Receipt(p1))
	p2 := a.Pay(b.ID, 11) // receipt in the same upload
	b.Receive(p2)
	a.Confirm(b.Receipt(p2))
	wrongKey := a.Pay(b.ID, 12) // "bob's" receipt signed by carol's key
	forged := b.Receipt(wrongKey)
	forged.Sig = c.Receipt(wrongKey).Sig
	a.Confirm(forged)
	otherPayee := a.Pay(b.ID, 13) // carol's genuine receipt of bob's payment
	a.Confirm(c.Receipt(otherPayee))
	otherPayment := a.Pay(b.ID, 14) // bob's receipt of p1, relabelled
	re := b.Receipt(p1)
	re.Payment = otherPayment.Payment.ID()
	a.Confirm(re)
	unclaimed := a.Pay(b.ID, 15) // a genuine receipt of another payment
	a.Confirm(b.Receipt(p2))
	r := e.SyncAll(a)
	want := map[*protocol.PaymentBundle]uint8{p1: protocol.StatusSettled, p2: protocol.StatusSettled,
		wrongKey: protocol.StatusPending, otherPayee: protocol.StatusPending, otherPayment: protocol.StatusPending, unclaimed: protocol.StatusPending}
	for p, st := range want {
		if got := statusOf(r, p.Payment.ID()); got != st {
			t.Fatalf("payment of %d: status %d, want %d", p.Payment.Amount, got, st)
		}
	}
	if d := e.Dev(b); d.Received != 21 {
		t.Fatalf("bob credited %d, want 21", d.Received)
	}
	if d := e.Dev(c); d.Received != 0 {
		t.Fatalf("carol credited %d", d.Received)
	}
	// Bob's own upload then claims nothing twice.
	e.SyncAll(b)
	if d := e.Dev(b); d.Received != 21 || d.Position != 21 {
		t.Fatalf("bob after his upload: %+v", d)
	}
	if rep := e.Conserved(); rep.Settled != 2 {
		t.Fatalf("settled %d, want 2", rep.Settled)
	}
}

// testExpiry: a payment its payee never claims expires once the payee's
// log shows a ledger time at or past the claim deadline: the payer's
// account gets the value back, the payer learns it. A receive entry of it
// logged later (only a broken SE does that) credits nothing, and what the
// payee pays on from it is overspend its owner covers.
func testExpiry(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 100)
	e.Account("carol", false, 0)
	a, b, c := e.Device("ex-a", "alice"), e.Device("ex-b", "bob"), e.Device("ex-c", "carol")
	e.Load(a, 100)
	p := a.Pay(b.ID, 30)
	kept := a.Pay(b.ID, 5) // received in time: never expires
	b.Receive(kept)
	e.SyncAll(a)
	deadline := p.Payment.Time + protocol.ClaimWindow
	syncedAt(b, deadline-1) // one second short
	if r := e.SyncAll(b); r.Acked != 2 {
		t.Fatalf("bob acked %d", r.Acked)
	}
	if r := e.SyncAll(a); statusOf(r, p.Payment.ID()) != protocol.StatusPending || e.Balance("alice") != 900 {
		t.Fatalf("expired early: %+v, alice %d", r.Statuses, e.Balance("alice"))
	}
	syncedAt(b, deadline)
	before := e.Conserved()
	e.SyncAll(b)
	rep := e.Conserved()
	if e.Balance("alice") != 930 || e.lineKinds("alice")[ledger.LineExpired] != 30 || rep.Settled != 1 ||
		rep.Outstanding != before.Outstanding-30 || rep.Accounts != before.Accounts+30 {
		t.Fatalf("after expiry: alice %d, report %+v", e.Balance("alice"), rep)
	}
	if d := e.Dev(a); d.Sent != 35 || d.Position != 65 {
		t.Fatalf("payer device stays debited: %+v", d)
	}
	ns := e.list(ledger.OutboxQuery{})
	var expiredNotes int
	for _, n := range ns {
		if n.Kind == ledger.NotePaymentExpired {
			expiredNotes++
			if !strings.Contains(string(n.Payload), p.Payment.ID().String()) || !strings.Contains(string(n.Payload), `"status":"expired"`) {
				t.Fatalf("payment_expired note %s", n.Payload)
			}
		}
	}
	if expiredNotes != 1 {
		t.Fatalf("%d payment_expired notes", expiredNotes)
	}
	r := e.SyncAll(a)
	if statusOf(r, p.Payment.ID()) != protocol.StatusExpired || statusOf(r, kept.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("payer's result: %+v", r.Statuses)
	}
	// Uploads again (and a later sync entry): nothing changes.
	e.SyncAll(b)
	syncedAt(b, deadline+100)
	e.SyncAll(b)
	e.SyncAll(a)
	if e.Balance("alice") != 930 || e.Conserved().Accounts != rep.Accounts {
		t.Fatalf("expired twice: alice %d", e.Balance("alice"))
	}
	// A payment the payer uploads only after the payee's floor passed its
	// deadline expires at once.
	late := a.Pay(b.ID, 7)
	_ = late
	lateDeadline := late.Payment.Time + protocol.ClaimWindow
	syncedAt(b, lateDeadline)
	e.SyncAll(b)
	if r := e.SyncAll(a); statusOf(r, late.Payment.ID()) != protocol.StatusExpired || e.Balance("alice") != 937 {
		t.Fatalf("late payment: %+v, alice %d", r.Statuses, e.Balance("alice"))
	}
	// A broken SE receives the expired payment after all: recorded, not
	// credited; bob's purse now holds 30 his position lacks.
	b.Receive(p)
	if r := e.SyncAll(b); statusOf(r, p.Payment.ID()) != protocol.StatusExpired {
		t.Fatalf("late receive: %+v", r.Statuses)
	}
	if d := e.Dev(b); d.Received != 5 || d.Position != 5 {
		t.Fatalf("bob credited for an expired payment: %+v", d)
	}
	// He pays it on: carol is paid, bob's owner covers the overspend.
	c.Receive(b.Pay(c.ID, 30))
	e.SyncAll(c)
	e.SyncAll(b)
	if d := e.Dev(b); d.Position != -25 {
		t.Fatalf("bob %+v", d)
	}
	if e.Balance("bob") != 75 || e.Dev(c).Received != 30 {
		t.Fatalf("cover: bob %d, carol %+v", e.Balance("bob"), e.Dev(c))
	}
	if rep := e.Conserved(); rep.Recovered != 25 {
		t.Fatalf("recovered %d, want 25", rep.Recovered)
	}
}

// testMerchantSweep: a merchant's claimed payments sweep into its account
// and its SyncResult reports the cumulative sweep, so its SE takes the
// same value out of the purse; merchant devices are receive-only.
func testMerchantSweep(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a, m := e.Device("ms-a", "alice"), e.Device("ms-m", "shop")
	if m.Cert.Limits.PerPayment != 0 || a.Cert.Limits.PerPayment == 0 {
		t.Fatalf("limits: merchant %+v, person %+v", m.Cert.Limits, a.Cert.Limits)
	}
	e.Load(a, 100)
	a.Time = uint64(e.Now().Unix()) // payments within the claim window of the ledger's time
	m.Receive(a.Pay(m.ID, 10))
	m.Receive(a.Pay(m.ID, 15))
	r := e.SyncAll(m)
	if r.Swept != 25 {
		t.Fatalf("swept %d, want 25", r.Swept)
	}
	m.ApplySync(r)
	pending := a.Pay(m.ID, 5) // awaiting claim: not swept
	e.SyncAll(a)
	r = e.SyncAll(m)
	if r.Swept != 25 || m.Purse != 0 {
		t.Fatalf("swept %d, purse %d", r.Swept, m.Purse)
	}
	m.ApplySync(r) // same sweep: purse unchanged
	m.Receive(pending)
	r = e.SyncAll(m)
	m.ApplySync(r)
	e.SyncAll(m)
	if d := e.Dev(m); r.Swept != 30 || m.Purse != 0 || d.Position != m.Purse || d.Swept != 30 || e.Balance("shop") != 30 {
		t.Fatalf("swept %d, purse %d, device %+v, shop %d", r.Swept, m.Purse, d, e.Balance("shop"))
	}
	// A payment in a merchant's log (a broken SE) is rejected.
	bad := m.Pay(a.ID, 1)
	a.Receive(bad)
	if r := e.SyncAll(a); statusOf(r, bad.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("payment by a receive-only device: %+v", r.Statuses)
	}
}
