package fedtest

import (
	"testing"
	"time"

	"github.com/offpay/offpay/natsfwd"
	"github.com/offpay/offpay/natsfwd/natstest"
)

// TestOnlineCrossProvider: alice (bankA) pays bob's (bankC) request
// online. bankA debits her account at once and owes bankC; the forwarded
// payment credits bob at bankC once; bob's wallet learns it from its own
// ledger, with a receipt signed by bankC's issuer. A retry pays nothing
// twice and forwards nothing again; both reconciliations hold and the
// clearing cycle moves the amount from bankA to bankC. (bankC runs on
// PostgreSQL when OFFPAY_TEST_POSTGRES is set.)
func TestOnlineCrossProvider(t *testing.T) {
	f := newFed(t, "bankA", "bankC")
	alice := f.wallet("bankA", "alice", false, 100000, 0)
	bob := f.wallet("bankC", "bob", false, 0, 0)
	req, err := bob.w.Request(2500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.w.OnlineReceipt(ctx, req); err == nil {
		t.Fatal("bob sees a payment nobody made")
	}
	rc, repeat, err := alice.w.PayOnline(ctx, req, 0, nil)
	if err != nil || repeat {
		t.Fatalf("pay online: %v (repeat %v)", err, repeat)
	}
	if got := f.balance("bankA", "alice"); got != 100000-2500 {
		t.Fatalf("alice %d", got)
	}
	if _, err := bob.w.OnlineReceipt(ctx, req); err == nil {
		t.Fatal("bob credited before bankC heard of it")
	}
	if n := f.deliver(); n != 1 {
		t.Fatalf("forwarded %d, want 1", n)
	}
	got, err := bob.w.OnlineReceipt(ctx, req)
	if err != nil || got.Payment != rc.Payment || got.Amount != 2500 {
		t.Fatalf("bob's lookup: %+v %v", got, err)
	}
	if _, repeat, err := alice.w.PayOnline(ctx, req, 0, nil); err != nil || !repeat {
		t.Fatalf("retry: %v (repeat %v)", err, repeat)
	}
	if n := f.deliver(); n != 0 {
		t.Fatalf("a retry forwarded %d", n)
	}
	if a, b := f.balance("bankA", "alice"), f.balance("bankC", "bob"); a != 97500 || b != 2500 {
		t.Fatalf("alice %d, bob %d", a, b)
	}
	assertObligations(t, f, "bankA", "bankC", 2500, 0)
	assertObligations(t, f, "bankC", "bankA", 0, 2500)
	for _, p := range []string{"bankA", "bankC"} {
		if r := f.report(p); !r.ConservationOK || r.OnlinePayments != 1 {
			t.Fatalf("%s report: ok %v, %d online payments", p, r.ConservationOK, r.OnlinePayments)
		}
	}
	c, err := f.node.Clear(f.statements())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Federation.Holds || len(c.Transfers) != 1 || c.Transfers[0].Amount != 2500 || c.Transfers[0].From != "bankA" || c.Transfers[0].To != "bankC" {
		t.Fatalf("cycle: %+v", c)
	}
}

// TestOnlineOverNATS: the online payment across providers travels over
// JetStream like offline evidence: published once from the payer's
// provider, settled once at the payee's, and a redelivery past the
// server's duplicate window changes nothing.
func TestOnlineOverNATS(t *testing.T) {
	srv := natstest.Start(t)
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 0)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	req, err := bob.w.Request(1200, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := alice.w.PayOnline(ctx, req, 0, nil); err != nil {
		t.Fatal(err)
	}
	a, b := f.ps["bankA"], f.ps["bankB"]
	rows, err := a.svc.PendingForwards(ctx, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d forwards, %v", len(rows), err)
	}
	bus := dial(t, srv.URL)
	if n, err := bus.Publish(ctx, a.svc, 100); n != 1 || err != nil {
		t.Fatalf("publish: %d %v", n, err)
	}
	cons, err := bus.Consumer(ctx, "bankB", b.svc)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := cons.Drain(ctx, 100, time.Second); err != nil || st != (natsfwd.Stats{Settled: 1}) {
		t.Fatalf("drain: %v %v", st, err)
	}
	bus2, err := natsfwd.Dial(ctx, srv.URL, natsfwd.Config{Stream: "OFFPAY_FORWARDS_2", Prefix: "offpay.forward2."})
	if err != nil {
		t.Fatal(err)
	}
	defer bus2.Close()
	if _, err := bus2.Publish(ctx, replay(rows), 100); err != nil {
		t.Fatal(err)
	}
	cons2, err := bus2.Consumer(ctx, "bankB", b.svc)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := cons2.Drain(ctx, 100, time.Second); err != nil || st != (natsfwd.Stats{Duplicates: 1}) {
		t.Fatalf("redelivery: %v %v", st, err)
	}
	if got := f.balance("bankB", "bob"); got != 1200 {
		t.Fatalf("bob %d", got)
	}
	if _, err := bob.w.OnlineReceipt(ctx, req); err != nil {
		t.Fatal(err)
	}
	assertObligations(t, f, "bankB", "bankA", 0, 1200)
}
