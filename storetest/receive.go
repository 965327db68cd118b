package storetest

import (
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// testReceiveChecks: a payee's log may hold payments its SE should not
// have accepted (forged, addressed to someone else, from a payer this
// ledger does not know, above the payer's per-payment limit) or the same
// payment twice. The log is accepted
// (it is the SE's signed history) but none of those is credited, and each
// says so in its status.
func testReceiveChecks(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	a, b, c := e.Device("rc-a", "alice"), e.Device("rc-b", "bob"), e.Device("rc-c", "carol")
	e.Load(a, 100)
	good := a.Pay(b.ID, 10)
	forged := a.Pay(b.ID, 20)
	forged.Payment.Amount = 90 // changed after signing
	toCarol := a.Pay(c.ID, 5)
	stranger := e.newDev("rc-stranger")
	stranger.Cert = a.Cert // claims a's certificate; the ledger uses its own record
	fromStranger := stranger.Pay(b.ID, 7)
	big := a.Pay(b.ID, 10001) // above a's per-payment limit (10000)
	b.Receive(good)
	b.Receive(big)
	b.Receive(forged)
	b.Receive(toCarol)
	b.Receive(fromStranger)
	b.Receive(good) // replayed into the same log
	r := e.SyncAll(b)
	want := map[protocol.Hash]uint8{
		good.Payment.ID():         protocol.StatusSettled,
		forged.Payment.ID():       protocol.StatusRejected,
		toCarol.Payment.ID():      protocol.StatusRejected,
		fromStranger.Payment.ID(): protocol.StatusRejected,
		big.Payment.ID():          protocol.StatusRejected,
	}
	for id, st := range want {
		if got := statusOf(r, id); got != st {
			t.Fatalf("payment %v: status %d, want %d", id, got, st)
		}
	}
	if d := e.Dev(b); d.Received != 10 {
		t.Fatalf("bob credited %d, want 10", d.Received)
	}
	// The same payment again in a later upload: still once.
	b.Receive(good)
	e.SyncAll(b)
	if d := e.Dev(b); d.Received != 10 {
		t.Fatalf("bob credited %d after a replay, want 10", d.Received)
	}
	// The payer's own log records the forged payment's original and the
	// one to carol; the ledger had not credited the forgery to anyone, and
	// bob's receive entry of the forgery does not claim the original: both
	// await their payee's claim.
	r = e.SyncAll(a)
	if statusOf(r, big.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("over-limit payment in the payer's log: status %d", statusOf(r, big.Payment.ID()))
	}
	if statusOf(r, forged.Payment.ID()) != 0 {
		t.Fatalf("the forgery has a status in the payer's result: %+v", r.Statuses)
	}
	for _, e := range a.Log {
		var p protocol.Payment
		if e.Kind == protocol.EntryPay && protocol.Unmarshal(e.Body, &p) == nil && p.Amount != 10001 {
			if got := statusOf(r, p.ID()); got != protocol.StatusPending && got != protocol.StatusSettled {
				t.Fatalf("payment %d: status %d", p.Counter, got)
			}
		}
	}
	if d := e.Dev(a); d.Sent != 35 {
		t.Fatalf("alice sent %d, want 35", d.Sent)
	}
	if d := e.Dev(b); d.Received != 10 {
		t.Fatalf("bob %+v", d)
	}
	if rep := e.Conserved(); rep.Settled != 1 {
		t.Fatalf("settled %d, want 1 (the others await their claim)", rep.Settled)
	}
	// A receive entry whose bundle no longer decodes (a payer key refused
	// since its SE accepted it, or a broken SE's garbage) is recorded and
	// credits nothing: the payee's later uploads are not stranded.
	b.Append(protocol.EntryReceive, []byte{0x82, 0x01, 0x02})
	b.Receive(a.Pay(b.ID, 3))
	r = e.SyncAll(b)
	if r.Acked != b.Counter() {
		t.Fatalf("acked %d of %d", r.Acked, b.Counter())
	}
	if d := e.Dev(b); d.Received != 13 {
		t.Fatalf("bob credited %d, want 13", d.Received)
	}
}

// testHopLimit: a payment that claims more offline hops than its payer's
// certificate allows (max_hops + 1) is one no payee's SE accepts: the
// ledger records it from neither side and credits nothing. At the limit
// it settles.
func testHopLimit(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	a, b := e.Device("hl-a", "alice"), e.Device("hl-b", "bob")
	e.Load(a, 100)
	max := ledger.DefaultPolicy.Person.MaxHops + 1
	a.Hops = max
	ok := a.Pay(b.ID, 10)
	a.Hops = max + 1
	over := a.Pay(b.ID, 20)
	b.Receive(ok)
	b.Receive(over)
	r := e.SyncAll(b)
	if statusOf(r, ok.Payment.ID()) != protocol.StatusSettled || statusOf(r, over.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("payee's statuses %+v", r.Statuses)
	}
	r = e.SyncAll(a)
	if statusOf(r, over.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("payer's status of the over-limit payment %+v", r.Statuses)
	}
	if d := e.Dev(a); d.Sent != 10 {
		t.Fatalf("alice sent %d, want 10", d.Sent)
	}
	if d := e.Dev(b); d.Received != 10 {
		t.Fatalf("bob received %d, want 10", d.Received)
	}
}
