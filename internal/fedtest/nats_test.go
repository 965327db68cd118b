package fedtest

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/natsfwd"
	"github.com/offpay/offpay/natsfwd/natstest"
	"github.com/offpay/offpay/protocol"
)

func dial(t *testing.T, url string) *natsfwd.Bus {
	t.Helper()
	b, err := natsfwd.Dial(ctx, url, natsfwd.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// TestOverNATS: the evidence goes through JetStream; a publisher that
// crashed before it recorded the send publishes again and the server
// drops the copy (Nats-Msg-Id); a copy that gets through anyway (after
// the window) is settled once by the ledger.
func TestOverNATS(t *testing.T) {
	srv := natstest.Start(t)
	f := newFed(t, "bankA", "bankB")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	pay(t, alice, bob, 1500)
	bob.sync(t)
	bus := dial(t, srv.URL)
	a, b := f.ps["bankA"], f.ps["bankB"]
	// Alice knows her payment's ID: she publishes junk under it first, so
	// that the stream would drop the evidence as a duplicate if the
	// message ID were the payment ID alone.
	pending, err := b.svc.PendingForwards(ctx, 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("%d forwards, %v", len(pending), err)
	}
	natstest.PublishRaw(t, srv.URL, "offpay.forward.bankA", hex.EncodeToString(pending[0].ID[:]), []byte("junk"))
	crashy := &forgetful{Service: b.svc}
	if n, err := bus.Publish(ctx, crashy, 100); n != 0 || err == nil {
		t.Fatalf("publish with a crash before marking: %d %v", n, err)
	}
	if n, err := bus.Publish(ctx, b.svc, 100); n != 1 || err != nil {
		t.Fatalf("publish again: %d %v", n, err)
	}
	if n, err := bus.Publish(ctx, b.svc, 100); n != 0 || err != nil {
		t.Fatalf("nothing left to publish: %d %v", n, err)
	}
	cons, err := bus.Consumer(ctx, "bankA", a.svc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cons.Drain(ctx, 100, time.Second)
	if err != nil || st != (natsfwd.Stats{Settled: 1, Refused: 1}) {
		t.Fatalf("drain: %v %v (want the junk refused, the evidence settled once: the server drops the second publication)", st, err)
	}
	assertObligations(t, f, "bankA", "bankB", 1500, 0)

	// The same evidence delivered again past the server's window.
	bus2, err := natsfwd.Dial(ctx, srv.URL, natsfwd.Config{Stream: "OFFPAY_FORWARDS_2", Prefix: "offpay.forward2."})
	if err != nil {
		t.Fatal(err)
	}
	defer bus2.Close()
	rows := crashy.seen
	if err := b.svc.MarkForwarded(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// With it, in the same batch, a forgery: its amount raised after the
	// payee signed. It is refused for good; the copy is settled once.
	fw, err := protocol.UnmarshalForward(rows[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	var bundle protocol.PaymentBundle
	if err := protocol.Unmarshal(fw.Entry.Body, &bundle); err != nil {
		t.Fatal(err)
	}
	bundle.Payment.Amount *= 10
	fw.Entry.Body = bundle.Marshal()
	forged := ledger.ForwardRow{ID: protocol.Hash{9}, Provider: "bankA", Data: fw.Marshal()}
	if _, err := bus2.Publish(ctx, replay(append(rows, forged)), 100); err != nil {
		t.Fatal(err)
	}
	cons2, err := bus2.Consumer(ctx, "bankA", a.svc)
	if err != nil {
		t.Fatal(err)
	}
	var refused []error
	cons2.Refusal = func(_ []byte, err error) { refused = append(refused, err) }
	if st, err := cons2.Drain(ctx, 100, time.Second); err != nil || st != (natsfwd.Stats{Duplicates: 1, Refused: 1}) || len(refused) != 1 {
		t.Fatalf("redelivery with a forgery: %v %v %v", st, err, refused)
	}
	assertObligations(t, f, "bankA", "bankB", 1500, 0)
}

// forgetful publishes but "crashes" before it records the send.
type forgetful struct {
	*ledger.Service
	seen []ledger.ForwardRow
}

func (s *forgetful) PendingForwards(ctx context.Context, limit int) ([]ledger.ForwardRow, error) {
	rows, err := s.Service.PendingForwards(ctx, limit)
	s.seen = rows
	return rows, err
}

func (s *forgetful) MarkForwarded(context.Context, []protocol.Hash) error {
	return errors.New("crashed")
}

// replay is a Source that offers rows again.
type replay []ledger.ForwardRow

func (r replay) PendingForwards(context.Context, int) ([]ledger.ForwardRow, error) { return r, nil }
func (r replay) MarkForwarded(context.Context, []protocol.Hash) error              { return nil }

// TestProviderDownCatchesUp: bankA is down (its ledger closed, no
// consumer) and NATS restarts while payees at bankB and bankC keep
// syncing and their providers keep publishing; when bankA comes back its
// durable consumer settles everything that waited in the stream, and the
// federation holds.
func TestProviderDownCatchesUp(t *testing.T) {
	srv := natstest.Start(t)
	f := newFed(t, "bankA", "bankB", "bankC")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	erin := f.wallet("bankA", "erin", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	carol := f.wallet("bankC", "carol", false, 0, 0)
	bus := dial(t, srv.URL)
	a := f.ps["bankA"]
	if _, err := bus.Consumer(ctx, "bankA", a.svc); err != nil { // bankA joined the bus once
		t.Fatal(err)
	}
	a.svc = nil // bankA goes down
	for i := 0; i < 5; i++ {
		pay(t, alice, bob, 100)
		pay(t, erin, carol, 200)
	}
	bob.sync(t)
	carol.sync(t)
	if n, err := bus.Publish(ctx, f.ps["bankB"].svc, 100); n != 5 || err != nil {
		t.Fatalf("bankB published %d %v", n, err)
	}
	srv.Restart() // the bus itself restarts: the stream is on disk
	bus = dial(t, srv.URL)
	if n, err := bus.Publish(ctx, f.ps["bankC"].svc, 100); n != 5 || err != nil {
		t.Fatalf("bankC published %d %v", n, err)
	}
	f.start("bankA") // back, on its store
	cons, err := bus.Consumer(ctx, "bankA", f.ps["bankA"].svc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cons.Drain(ctx, 100, time.Second)
	if err != nil || st != (natsfwd.Stats{Settled: 10}) {
		t.Fatalf("catching up: %v %v", st, err)
	}
	alice.p, erin.p = f.ps["bankA"], f.ps["bankA"]
	f.reopen(alice)
	f.reopen(erin)
	alice.sync(t)
	erin.sync(t)
	assertObligations(t, f, "bankA", "bankB", 500, 0)
	assertObligations(t, f, "bankA", "bankC", 1000, 0)
	c, err := f.node.Clear(f.statements())
	if err != nil || !c.Federation.Holds {
		t.Fatalf("cycle %+v %v", c, err)
	}
}
