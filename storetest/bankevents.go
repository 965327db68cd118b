package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// testBankEvents: the notifications are enough for a bank to book every
// movement. A sweep of 501 payments into a merchant account is two
// settle_in lines naming their payments, each payment naming its line; a
// person-to-person payment is in its payee's stream; a payment claimed at
// its payee's enrolment is notified; expired payments name their refund
// line and why; a double spend carries its statements' payments and
// amounts; a frozen account says so. Then bank.Reconcile matches every
// statement line and settled payment to exactly one notification.
func testBankEvents(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100000)
	e.Account("bob", false, 1000)
	e.Account("carol", false, 0)
	e.Account("dave", false, 0)
	e.Account("shop", true, 0)
	a, b, c, m := e.Device("be-a", "alice"), e.Device("be-b", "bob"), e.Device("be-c", "carol"), e.Device("be-m", "shop")
	d := e.Device("be-d", "dave")
	e.Load(a, 2000)
	a.Time = uint64(e.Now().Unix())

	// 501 payments to the shop's terminal, uploaded by the terminal.
	var shopPays []*protocol.PaymentBundle
	for range 501 {
		p := a.Pay(m.ID, 1)
		m.Receive(p)
		shopPays = append(shopPays, p)
	}
	e.SyncAll(m)
	// alice pays bob (a person); bob's upload settles it.
	p2p := a.Pay(b.ID, 30)
	b.Receive(p2p)
	e.SyncAll(b)
	// alice pays carol, who never receives it: it expires when carol's log
	// shows the claim window passed.
	lost := a.Pay(c.ID, 20)
	// alice pays dave, then dave's device is revoked: the payment returns
	// at the assessment after the claim window.
	orphan := a.Pay(d.ID, 15)
	// alice pays a shop terminal not enrolled yet: claimed at enrolment.
	m2 := e.newDev("be-m2")
	late := a.Pay(m2.ID, 7)
	e.SyncAll(a)
	if err := e.Svc.Revoke(e.Ctx, d.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	en, err := e.Svc.Enrol(e.Ctx, e.enrolment(m2, "shop"))
	if err != nil {
		t.Fatal(err)
	}
	m2.Cert = en.Device
	e.Advance(time.Duration(protocol.ClaimWindow+3600) * time.Second)
	syncedAt(c, uint64(e.Now().Unix()))
	e.SyncAll(c)
	if got := e.assess(); got.Expired != 1 {
		t.Fatalf("assessment %+v", got)
	}
	// A clone of bob's device pays twice with one counter.
	e.Load(b, 100)
	b2 := b.Clone()
	b.Time, b2.Time = uint64(e.Now().Unix()), uint64(e.Now().Unix())
	x1, x2 := b.Pay(c.ID, 40), b2.Pay(m.ID, 60)
	c.Receive(x1)
	m.Receive(x2)
	e.SyncAll(c)
	e.SyncAll(m)

	notes := e.list(ledger.OutboxQuery{})
	var events []*bank.Event
	for i := range notes {
		body, err := bank.Body(&notes[i])
		if err != nil {
			t.Fatal(err)
		}
		ev, err := bank.ParseEvent(body)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	rep := e.Conserved()
	books := bank.Books{Statements: map[string][]ledger.StatementLine{}, Settled: rep.Settled}
	for _, acct := range []string{"alice", "bob", "carol", "dave", "shop"} {
		ls, err := e.Svc.Statement(e.Ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		books.Statements[acct] = ls
	}
	r, err := bank.Reconcile(events, books)
	if err != nil {
		t.Fatal(err)
	}
	if r.SettledPayments != 501+1+1+2 || r.ExpiredPayments != 2 {
		t.Fatalf("reconciled %+v", r)
	}

	// What each kind says.
	byKind := map[string][]*bank.Event{}
	for _, ev := range events {
		byKind[ev.Kind] = append(byKind[ev.Kind], ev)
	}
	var sweeps []ledger.AccountChanged
	for _, ev := range byKind[ledger.NoteAccountChanged] {
		var ch ledger.AccountChanged
		mustJSON(t, ev.Data, &ch)
		if ch.BookingDate != e.dateOf(ev) || ch.ValueDate != ch.BookingDate {
			t.Fatalf("line %s #%d: booking %s value %s, written %s", ch.Account, ch.Seq, ch.BookingDate, ch.ValueDate, ev.CreatedAt)
		}
		if ch.Kind == ledger.LineSettleIn && ch.Ref[:5] == "sync:" {
			sweeps = append(sweeps, ch)
		}
	}
	if len(sweeps) < 2 || len(sweeps[0].PaymentIDs) != 500 || len(sweeps[1].PaymentIDs) != 1 || sweeps[1].Ref != sweeps[0].Ref+"/2" {
		t.Fatalf("the 501-payment sweep as lines: %+v", sweeps[:min(2, len(sweeps))])
	}
	if sweeps[0].PaymentIDs[0] != shopPays[0].Payment.ID().String() {
		t.Fatalf("first swept payment %s, want %s", sweeps[0].PaymentIDs[0], shopPays[0].Payment.ID())
	}
	settled := map[string]ledger.SettledPayment{}
	for _, ev := range byKind[ledger.NotePaymentSettled] {
		var pl ledger.SettledPayload
		mustJSON(t, ev.Data, &pl)
		if pl.BookingDate != e.dateOf(ev) || len(pl.Payments) > 500 {
			t.Fatalf("payment_settled %+v", pl)
		}
		for _, it := range pl.Payments {
			settled[it.PaymentID] = it
		}
	}
	if it := settled[p2p.Payment.ID().String()]; it.PayeeAccount != "bob" || it.PayerAccount != "alice" || it.Line != nil ||
		it.Amount != 30 || !it.PaidAt.Equal(time.Unix(int64(p2p.Payment.Time), 0)) {
		t.Fatalf("person-to-person payment %+v", it)
	}
	if it := settled[late.Payment.ID().String()]; it.PayeeAccount != "shop" || it.Line == nil || it.Line.Account != "shop" {
		t.Fatalf("payment claimed at enrolment %+v", it)
	}
	reasons := map[string]string{}
	for _, ev := range byKind[ledger.NotePaymentExpired] {
		var pl ledger.SettledPayload
		mustJSON(t, ev.Data, &pl)
		for _, it := range pl.Payments {
			reasons[it.PaymentID] = pl.Reason
			if pl.Account != "alice" || it.Line == nil || it.Line.Account != "alice" {
				t.Fatalf("payment_expired %+v", pl)
			}
		}
	}
	if reasons[lost.Payment.ID().String()] != ledger.ExpiredClaimWindow || reasons[orphan.Payment.ID().String()] != ledger.ExpiredNoPayee {
		t.Fatalf("expiry reasons %v", reasons)
	}
	if len(byKind[ledger.NoteDoubleSpend]) != 1 || len(byKind[ledger.NoteAccountFrozen]) != 1 {
		t.Fatalf("double_spend %d, account_frozen %d", len(byKind[ledger.NoteDoubleSpend]), len(byKind[ledger.NoteAccountFrozen]))
	}
	var ds ledger.DoubleSpendPayload
	mustJSON(t, byKind[ledger.NoteDoubleSpend][0].Data, &ds)
	want := map[string]int64{x1.Payment.ID().String(): 40, x2.Payment.ID().String(): 60}
	for _, st := range ds.Statements {
		if want[st.PaymentID] != st.Amount || st.Payer != b.ID.String() || st.Entry != "receive" {
			t.Fatalf("double_spend statement %+v", st)
		}
		delete(want, st.PaymentID)
	}
	if ds.Device != b.ID.String() || ds.Account != "bob" || ds.Proof != ledger.ProofEntries || len(want) != 0 {
		t.Fatalf("double_spend %+v", ds)
	}
	var fr ledger.AccountFrozen
	mustJSON(t, byKind[ledger.NoteAccountFrozen][0].Data, &fr)
	if fr.Account != "bob" || fr.Device != b.ID.String() || fr.Reason != "double spend" {
		t.Fatalf("account_frozen %+v", fr)
	}
}

func (e *Env) dateOf(ev *bank.Event) string { return ev.CreatedAt.UTC().Format(time.DateOnly) }

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
