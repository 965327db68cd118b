package storetest

import (
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// Refunds (SPEC.md 7.5.1, 11; ledger/README.md "Refunds"). A refund is a
// payment from a merchant's device back to the payer of one of its sales,
// naming the sale; the merchant account pays it. The honest flows first,
// then the owner of the till who took its key out: every refund below is
// validly signed by the till's key, and the payer's wallet (their friend's,
// or their own second one) logs whatever it is given.

// refundWorld is alice (500 in her purse), bob, a shop with one till and a
// second shop with its own, and one sale: alice paid the till 100, which
// the till synced (swept into the shop's account).
type refundWorld struct {
	e              *Env
	a, b, m, other *ledgertest.Device
	sale           *protocol.PaymentBundle
}

func newRefundWorld(t *testing.T, open Opener) *refundWorld {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("shop", true, 0)
	e.Account("shop2", true, 0)
	w := &refundWorld{e: e, a: e.Device("rf-a", "alice"), b: e.Device("rf-b", "bob"), m: e.Device("rf-m", "shop"), other: e.Device("rf-m2", "shop2")}
	for _, d := range []*ledgertest.Device{w.a, w.b, w.m, w.other} {
		d.Time = uint64(e.Now().Unix()) // within the claim window of the ledger's time
	}
	e.Load(w.a, 500)
	w.sale = w.a.Pay(w.m.ID, 100)
	w.m.Receive(w.sale)
	w.m.ApplySync(e.SyncAll(w.m))
	if e.Balance("shop") != 100 {
		t.Fatalf("shop %d after its sale", e.Balance("shop"))
	}
	return w
}

// account returns an account with its held balance.
func (e *Env) account(name string) *ledger.Account {
	e.T.Helper()
	a, err := e.Svc.Account(e.Ctx, name)
	if err != nil {
		e.T.Fatal(err)
	}
	return a
}

// lines returns the statement lines of an account of kind.
func (e *Env) lines(name, kind string) []ledger.StatementLine {
	e.T.Helper()
	ls, err := e.Svc.Statement(e.Ctx, name)
	if err != nil {
		e.T.Fatal(err)
	}
	var out []ledger.StatementLine
	for _, l := range ls {
		if l.Kind == kind {
			out = append(out, l)
		}
	}
	return out
}

// refusedWithdraw fails unless a withdrawal is refused as held (ELIMIT).
func (e *Env) refusedWithdraw(name string, amount int64, ref string) {
	e.T.Helper()
	_, err := e.Svc.Withdraw(e.Ctx, name, amount, ref)
	Code(e.T, err, offpay.ELIMIT)
}

// syncMaybeRevoked uploads d's whole log; a revoked device's upload is
// settled and answered with the revoked error.
func (e *Env) syncMaybeRevoked(d *ledgertest.Device) {
	e.T.Helper()
	if _, err := e.Svc.Sync(e.Ctx, d.UploadAll()); err != nil && offpay.ErrorCode(err) != offpay.EFORBIDDEN {
		e.T.Fatalf("sync %v: %v", d.ID, err)
	}
}

// refundProofs returns the stored proofs of kind refund against d.
func refundProofs(r *ledger.Report, d *ledgertest.Device) int {
	n := 0
	for _, p := range r.DoubleSpends {
		if p.Kind == ledger.ProofRefund && p.Device == d.ID.String() {
			n++
		}
	}
	return n
}

// testRefund: the till refunds 40 of the sale; whichever side uploads
// first, the shop's account pays 40 (one sale_refund line), alice's purse
// position gets 40, the refund settles once, and nobody is revoked. The
// sale was held on the shop's account until then; the refund releases it.
func testRefund(t *testing.T, open Opener) {
	for _, order := range []string{"merchant-first", "payer-first"} {
		t.Run(order, func(t *testing.T) {
			w := newRefundWorld(t, open)
			e := w.e
			if acc := e.account("shop"); acc.Held != 100 {
				t.Fatalf("the sale is not held for its refund: %+v", acc)
			}
			e.refusedWithdraw("shop", 1, "w-held")
			refund := w.m.Refund(w.sale, 40)
			w.a.Receive(refund)
			var res *protocol.SyncResult
			if order == "merchant-first" {
				e.SyncAll(w.m)
				res = e.SyncAll(w.a)
			} else {
				res = e.SyncAll(w.a)
				e.SyncAll(w.m)
			}
			if st := statusOf(res, refund.Payment.ID()); st != protocol.StatusSettled {
				t.Fatalf("refund status %d", st)
			}
			r := e.Conserved()
			if len(r.RevokedDevices) != 0 || len(r.DoubleSpends) != 0 || r.Losses != 0 || r.Unassessed != 0 {
				t.Fatalf("report %+v", r)
			}
			ls := e.lines("shop", ledger.LineSaleRefund)
			if len(ls) != 1 || ls[0].Amount != -40 {
				t.Fatalf("shop's refund lines %+v", ls)
			}
			if acc := e.account("shop"); acc.Balance != 60 || acc.Held != 0 {
				t.Fatalf("shop after the refund: %+v", acc)
			}
			if d := e.Dev(w.a); d.Position != 440 {
				t.Fatalf("alice's position %d, want 500 - 100 + 40", d.Position)
			}
			if d := e.Dev(w.m); d.Position != 0 || d.Drawn != 40 {
				t.Fatalf("till %+v", d)
			}
			if _, err := e.Svc.Withdraw(e.Ctx, "shop", 60, "w-free"); err != nil {
				t.Fatalf("withdrawing what the refund left: %v", err)
			}
		})
	}
}

// testRefundClaimsSale: the till refunds a sale before it ever synced,
// and alice uploads first: the refund, the till's statement that it took
// the sale, claims the sale (swept into the shop's account), then the
// account pays the refund. The till's later upload changes nothing.
func testRefundClaimsSale(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	sale := w.a.Pay(w.m.ID, 70)
	w.m.Receive(sale)
	refund := w.m.Refund(sale, 30)
	w.a.Receive(refund)
	res := e.SyncAll(w.a)
	if statusOf(res, sale.Payment.ID()) != protocol.StatusSettled || statusOf(res, refund.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("statuses %+v", res.Statuses)
	}
	if acc := e.account("shop"); acc.Balance != 140 || acc.Held != 100 {
		t.Fatalf("shop after alice's upload: %+v (want 100 + 70 - 30, the first sale held)", acc)
	}
	r := e.SyncAll(w.m)
	w.m.ApplySync(r)
	if r.Swept != 170 || w.m.Purse != 0 {
		t.Fatalf("swept %d, till purse %d", r.Swept, w.m.Purse)
	}
	e.SyncAll(w.m)
	if acc := e.account("shop"); acc.Balance != 140 {
		t.Fatalf("shop %+v after the till's upload", acc)
	}
	if d := e.Dev(w.m); d.Position != 0 {
		t.Fatalf("till %+v", d)
	}
}

// testRefundHold: a sale is held on the merchant account until the till's
// log shows a sync at or past the sale's time + the refund window (its SE
// then refuses to refund it); a till that never syncs again stops paying
// after its offline days, and Assess releases its sales then.
func testRefundHold(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	second := w.a.Pay(w.other.ID, 50)
	w.other.Receive(second)
	w.other.ApplySync(e.SyncAll(w.other))
	e.Advance(time.Duration(protocol.RefundWindow)*time.Second + time.Minute)
	// The till learns the ledger's time, and logs it in a sync entry...
	w.m.Time = uint64(e.Now().Unix())
	w.m.ApplySync(e.SyncAll(w.m))
	e.refusedWithdraw("shop", 1, "w1")
	// ... which the ledger sees at its next upload.
	e.SyncAll(w.m)
	if acc := e.account("shop"); acc.Held != 0 {
		t.Fatalf("still held once the till's log shows the window passed: %+v", acc)
	}
	if _, err := e.Svc.Withdraw(e.Ctx, "shop", 100, "w2"); err != nil {
		t.Fatal(err)
	}
	// shop2's till never syncs again: held until its offline days (14,
	// the merchant policy) after the window.
	e.assess()
	e.refusedWithdraw("shop2", 1, "w3")
	e.Advance(14 * day)
	e.assess()
	if acc := e.account("shop2"); acc.Held != 0 {
		t.Fatalf("a silent till's sale still held: %+v", acc)
	}
	if _, err := e.Svc.Withdraw(e.Ctx, "shop2", 50, "w4"); err != nil {
		t.Fatal(err)
	}
}

// testRefundAttacks: refunds no honest till signs. Each is honoured (the
// payer's SE took it offline), each is caught: a proof of kind refund
// where the refund and its sale (or two refunds) prove it, else the
// exposure rules; the till revoked, the shop frozen, the refund recovered
// from the shop's account, the rest a loss.
func testRefundAttacks(t *testing.T, open Opener) {
	type attack struct {
		name string
		// sign makes the refund(s) the colluding payer logs; refunds
		// lists them, proof says whether the ledger can prove it.
		sign  func(w *refundWorld) []*protocol.PaymentBundle
		payee func(w *refundWorld) *ledgertest.Device
		proof bool
		loss  int64 // what the shop's account cannot cover
	}
	attacks := []attack{
		{name: "above-the-sale", proof: true, loss: 50, sign: func(w *refundWorld) []*protocol.PaymentBundle {
			return []*protocol.PaymentBundle{w.m.Refund(w.sale, 150)}
		}},
		{name: "second-refund", proof: true, sign: func(w *refundWorld) []*protocol.PaymentBundle {
			return []*protocol.PaymentBundle{w.m.Refund(w.sale, 40), w.m.Refund(w.sale, 40)}
		}},
		{name: "to-another-payer", proof: true, payee: func(w *refundWorld) *ledgertest.Device { return w.b }, sign: func(w *refundWorld) []*protocol.PaymentBundle {
			return []*protocol.PaymentBundle{w.m.RefundOf(w.b.ID, w.sale.Payment.ID(), 100)}
		}},
		{name: "not-its-sale", proof: true, sign: func(w *refundWorld) []*protocol.PaymentBundle {
			theirs := w.a.Pay(w.other.ID, 80)
			w.other.Receive(theirs)
			w.other.ApplySync(w.e.SyncAll(w.other))
			return []*protocol.PaymentBundle{w.m.RefundOf(w.a.ID, theirs.Payment.ID(), 80)}
		}},
		// A sale between two others (a to another shop, refunded to b):
		// stored sales are found through the refund's payee or its till,
		// so the ledger judges it as a refund of no sale, which the till
		// can sign as well: revoked by the exposure rules, no proof.
		{name: "sale-between-others", payee: func(w *refundWorld) *ledgertest.Device { return w.b }, sign: func(w *refundWorld) []*protocol.PaymentBundle {
			theirs := w.a.Pay(w.other.ID, 80)
			w.other.Receive(theirs)
			w.other.ApplySync(w.e.SyncAll(w.other))
			return []*protocol.PaymentBundle{w.m.RefundOf(w.b.ID, theirs.Payment.ID(), 80)}
		}},
		{name: "unknown-sale", loss: 400, sign: func(w *refundWorld) []*protocol.PaymentBundle {
			return []*protocol.PaymentBundle{w.m.RefundOf(w.a.ID, protocol.Hash{9}, 500)}
		}},
	}
	for _, at := range attacks {
		for _, order := range []string{"merchant-first", "payer-first"} {
			t.Run(at.name+"/"+order, func(t *testing.T) {
				w := newRefundWorld(t, open)
				e := w.e
				payee := w.a
				if at.payee != nil {
					payee = at.payee(w)
				}
				for _, r := range at.sign(w) {
					payee.Receive(r)
				}
				if order == "merchant-first" {
					e.syncMaybeRevoked(w.m)
					e.SyncAll(payee)
				} else {
					e.SyncAll(payee)
					e.syncMaybeRevoked(w.m)
				}
				r := e.Conserved()
				if !revokedIn(r, w.m) || !e.frozen("shop") {
					t.Fatalf("till not revoked, or shop not frozen: %v", r.RevokedDevices)
				}
				if got := refundProofs(r, w.m); (got > 0) != at.proof {
					t.Fatalf("%d refund proofs, want one: %v", got, at.proof)
				}
				if d := e.Dev(payee); d.Position != payee.Purse {
					t.Fatalf("payer not honoured: position %d, its purse %d", d.Position, payee.Purse)
				}
				if r.Losses != at.loss {
					t.Fatalf("losses %d, want %d (recovered %d)", r.Losses, at.loss, r.Recovered)
				}
				if len(r.RevokedDevices) != 1 {
					t.Fatalf("revoked %v: only the till", r.RevokedDevices)
				}
			})
		}
	}
}

// testRefundSurfacesLate: a refund of an unknown sale that only the payer
// uploads (the till never syncs it) is unassessed exposure, held on the
// shop's account, and assessed at the till's deadline.
func testRefundSurfacesLate(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	w.a.Receive(w.m.RefundAt(w.a.ID, protocol.Hash{5}, 60, w.m.Counter()+1))
	e.SyncAll(w.a)
	r := e.Conserved()
	if revokedIn(r, w.m) || r.Unassessed != 60 {
		t.Fatalf("unassessed %d, revoked %v", r.Unassessed, r.RevokedDevices)
	}
	if acc := e.account("shop"); acc.Held != 100 {
		t.Fatalf("shop %+v: the sale (100) and the deficit (60) held, at most the balance", acc)
	}
	e.Advance(20 * day)
	e.assess()
	r = e.Conserved()
	if !revokedIn(r, w.m) || r.Unassessed != 0 || e.Balance("shop") != 40 || r.Losses != 0 {
		t.Fatalf("at the deadline: revoked %v unassessed %d shop %d losses %d", r.RevokedDevices, r.Unassessed, e.Balance("shop"), r.Losses)
	}
}

// testRefundByPerson: a refund signed by a person's device is recorded
// from neither side: no honest payee accepts one.
func testRefundByPerson(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	bad := w.b.RefundOf(w.a.ID, w.sale.Payment.ID(), 10)
	w.a.Receive(bad)
	// Alice's receive entry: the bundle does not decode (a refund under a
	// person's certificate), so it credits nothing.
	if res := e.SyncAll(w.a); statusOf(res, bad.Payment.ID()) == protocol.StatusSettled {
		t.Fatalf("a person's refund settled: %+v", res.Statuses)
	}
	// Bob's pay entry: beyond what a person's device may sign.
	if res := e.SyncAll(w.b); statusOf(res, bad.Payment.ID()) != protocol.StatusRejected {
		t.Fatalf("a person's refund: %+v", res.Statuses)
	}
	if d := e.Dev(w.a); d.Position != 400 || e.account("shop").Balance != 100 || e.Dev(w.b).Position != 0 {
		t.Fatalf("a person's refund moved money: alice %d, shop %d, bob %d", d.Position, e.account("shop").Balance, e.Dev(w.b).Position)
	}
}

// testRefundBankEvents: a settled refund shows in both accounts' streams:
// the shop's sale_refund line (an account_changed listing the refund) and
// the refund in the payment_settled of alice's account, naming the sale
// and that line; bank.Reconcile matches every line and payment.
func testRefundBankEvents(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	refund := w.m.Refund(w.sale, 25)
	w.a.Receive(refund)
	e.SyncAll(w.m) // recorded and paid by the shop first, claimed by alice's upload
	e.SyncAll(w.a)
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
	for _, acct := range []string{"alice", "bob", "shop", "shop2"} {
		ls, err := e.Svc.Statement(e.Ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		books.Statements[acct] = ls
	}
	if _, err := bank.Reconcile(events, books); err != nil {
		t.Fatal(err)
	}
	rid := refund.Payment.ID().String()
	var line *ledger.AccountChanged
	var item *ledger.SettledPayment
	var stream string
	for _, ev := range events {
		switch ev.Kind {
		case ledger.NoteAccountChanged:
			var ch ledger.AccountChanged
			mustJSON(t, ev.Data, &ch)
			if ch.Kind == ledger.LineSaleRefund {
				line = &ch
			}
		case ledger.NotePaymentSettled:
			var pl ledger.SettledPayload
			mustJSON(t, ev.Data, &pl)
			for i := range pl.Payments {
				if pl.Payments[i].PaymentID == rid {
					item, stream = &pl.Payments[i], ev.Account
				}
			}
		}
	}
	if line == nil || line.Account != "shop" || line.Amount != -25 || len(line.PaymentIDs) != 1 || line.PaymentIDs[0] != rid {
		t.Fatalf("the shop's refund line %+v", line)
	}
	if item == nil || stream != "alice" || item.RefundOf != w.sale.Payment.ID().String() || item.RefundLine == nil ||
		item.RefundLine.Account != "shop" || item.RefundLine.Seq != line.Seq || item.Line != nil || item.PayerAccount != "shop" {
		t.Fatalf("the refund in payment_settled (stream %s): %+v", stream, item)
	}
}

// testRefundShortfall: the shop's balance, held for its sale's refund, was
// taken by the recovery of another till's overspend; the honest till's
// refund then draws what is left (nothing) and the rest is its debt
// without fraud: the till is not revoked, alice is honoured, and the
// shortfall is a loss the report records.
func testRefundShortfall(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	m2 := e.Device("rf-m3", "shop")
	m2.Time = uint64(e.Now().Unix())
	m2.RefundOf(w.b.ID, protocol.Hash{3}, 500) // a second till's key, out of its SE
	e.syncMaybeRevoked(m2)
	if e.Balance("shop") != 0 {
		t.Fatalf("shop %d: the recovery took the held balance", e.Balance("shop"))
	}
	refund := w.m.Refund(w.sale, 40)
	w.a.Receive(refund)
	e.SyncAll(w.m)
	e.SyncAll(w.a)
	r := e.Conserved()
	if revokedIn(r, w.m) || len(r.RevokedDevices) != 1 {
		t.Fatalf("revoked %v: only the second till", r.RevokedDevices)
	}
	if d := e.Dev(w.m); d.Drawn != 0 || d.Position != -40 {
		t.Fatalf("till %+v: nothing drawn, 40 short", d)
	}
	if d := e.Dev(w.a); d.Position != w.a.Purse {
		t.Fatalf("alice not honoured: %+v", d)
	}
	if r.Losses != 400+40 || len(e.lines("shop", ledger.LineSaleRefund)) != 0 {
		t.Fatalf("losses %d (recovered %d), refund lines %d", r.Losses, r.Recovered, len(e.lines("shop", ledger.LineSaleRefund)))
	}
}

// testRefundAfterStale: a till whose sale the ledger stopped holding (it
// never synced past the sale's refund window before its offline days ran
// out) refunded the sale while offline, within what its SE allows (its
// ledger time was still inside the window); the log reaches the ledger
// only after the release. The refund is the till's, not a forgery: it
// is funded from what the shop's account still has and the rest is the
// till's debt without fraud; the till is not revoked and alice is paid.
// (Found by the simulator's loss curves: 10,000 devices, an honest shop
// revoked for "its own log shows an overspend".)
func testRefundAfterStale(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	sale := w.a.Pay(w.other.ID, 50)
	w.other.Receive(sale)
	w.other.ApplySync(e.SyncAll(w.other)) // its sync entry shows a time inside the sale's window
	refund := w.other.Refund(sale, 50)    // offline, days later by its own clock
	w.a.Receive(refund)
	e.Advance(time.Duration(protocol.RefundWindow)*time.Second + 14*day + time.Minute)
	e.assess()
	if acc := e.account("shop2"); acc.Held != 0 {
		t.Fatalf("a silent till's sale still held: %+v", acc)
	}
	if r := e.Conserved(); r.Released != 100+50 || r.Refundable != 0 {
		t.Fatalf("report: released %d, refundable %d: both silent tills' sales (100 and 50) released", r.Released, r.Refundable)
	}
	if _, err := e.Svc.Withdraw(e.Ctx, "shop2", 30, "w1"); err != nil {
		t.Fatal(err)
	}
	e.SyncAll(w.other)
	e.SyncAll(w.a)
	r := e.Conserved()
	if revokedIn(r, w.other) || len(r.RevokedDevices) != 0 {
		t.Fatalf("revoked %v: the till refunded its own sale", r.RevokedDevices)
	}
	if r.Released != 100 {
		t.Fatalf("released %d after the refund of the sale of 50: the other till's 100 is left", r.Released)
	}
	if d := e.Dev(w.other); d.Drawn != 20 || d.Position != -30 {
		t.Fatalf("till %+v: 20 drawn (what the shop still had), 30 short", d)
	}
	if e.Balance("shop2") != 0 || len(e.lines("shop2", ledger.LineSaleRefund)) != 1 {
		t.Fatalf("shop2 %d, refund lines %d", e.Balance("shop2"), len(e.lines("shop2", ledger.LineSaleRefund)))
	}
	if d := e.Dev(w.a); d.Position != w.a.Purse {
		t.Fatalf("alice not honoured: %+v", d)
	}
	if r.Losses != 30 {
		t.Fatalf("losses %d: the 30 the shop had withdrawn", r.Losses)
	}
	// The shortfall is the shop's debt: its next takings pay it down.
	w.other.Time = uint64(e.Now().Unix())
	w.other.Receive(w.a.Pay(w.other.ID, 45))
	e.SyncAll(w.other)
	if r := e.Conserved(); r.Losses != 0 || e.Balance("shop2") != 15 {
		t.Fatalf("after the shop's next sale of 45: losses %d, shop2 %d (30 recovered)", r.Losses, e.Balance("shop2"))
	}
}
