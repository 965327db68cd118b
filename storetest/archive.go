package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// archiveWorld is settled history old enough to archive, and what is
// still open beside it: alice's clone paid bob and carol with one
// counter (bob's half settled and archived, carol's not yet uploaded);
// alice paid the shop (settled by her receipt, the shop's own receive
// entry not uploaded yet: a sale it may still refund, so it stays), erin
// (settled by her receipt, her receive entry not uploaded yet) and dave
// (pending: dave never synced); gina paid bob, who uploaded it, and
// gina has not uploaded her log.
type archiveWorld struct {
	e              *Env
	a, a2, b, c, m *ledgertest.Device
	d, f, g        *ledgertest.Device
	toDave, toShop *protocol.PaymentBundle
	toErin         *protocol.PaymentBundle
	before         *ledger.Report
	shopLines      []ledger.StatementLine
	delivered      int
	start          time.Time        // before the first payment
	activity       *ledger.Activity // the console's chart before archiving
}

func newArchiveWorld(t *testing.T, open Opener) *archiveWorld {
	e := NewEnv(t, open)
	w := &archiveWorld{e: e, start: e.Now()}
	e.Account("alice", false, 1000)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	e.Account("dave", false, 0)
	e.Account("erin", false, 0)
	e.Account("gina", false, 100)
	e.Account("shop", true, 0)
	w.f, w.g = e.Device("ar-e", "erin"), e.Device("ar-g", "gina")
	w.a, w.b, w.c, w.d, w.m = e.Device("ar-a", "alice"), e.Device("ar-b", "bob"), e.Device("ar-c", "carol"), e.Device("ar-d", "dave"), e.Device("ar-m", "shop")
	e.Load(w.a, 300)
	w.a2 = w.a.Clone()
	pb := w.a.Pay(w.b.ID, 80)
	w.b.Receive(pb)
	w.c.Receive(w.a2.Pay(w.c.ID, 80)) // the same counter: a double spend
	w.toShop = w.a.Pay(w.m.ID, 20)
	rs := w.m.Receipt(w.toShop)
	w.a.Confirm(rs)
	w.toErin = w.a.Pay(w.f.ID, 15)
	w.a.Confirm(w.f.Receipt(w.toErin))
	w.toDave = w.a.Pay(w.d.ID, 5)
	e.Load(w.g, 50)
	w.b.Receive(w.g.Pay(w.b.ID, 7)) // gina uploads her log only after archiving
	e.SyncAll(w.a)
	e.SyncAll(w.b)
	// The bank got the notifications so far.
	ns, err := e.Svc.ClaimNotifications(e.Ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if err := e.Svc.MarkDelivered(e.Ctx, n.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.delivered = len(ns)
	// Past the retention: what was settled is archivable.
	e.Advance(ledger.MinRetention + time.Hour)
	w.before = e.Conserved()
	if w.shopLines, err = e.Svc.Statement(e.Ctx, "shop"); err != nil || len(w.shopLines) == 0 {
		t.Fatalf("shop statement: %v %v", w.shopLines, err)
	}
	if w.activity, err = w.activityNow(); err != nil || len(w.activity.Buckets) == 0 || w.activity.Buckets[1].Payments == 0 {
		t.Fatalf("activity: %+v %v", w.activity, err)
	}
	return w
}

// activityNow is the console's chart of the hours around the payments.
func (w *archiveWorld) activityNow() (*ledger.Activity, error) {
	return w.e.Svc.Activity(w.e.Ctx, w.start.Add(-time.Hour), w.start.Add(time.Hour), time.Hour)
}

// archive archives up to the retention and checks that the report and
// the statement answer as before.
func (w *archiveWorld) archive(t *testing.T, svc *ledger.Service, batch int) (*ledger.ArchiveResult, error) {
	t.Helper()
	res, err := svc.Archive(w.e.Ctx, w.e.Now().Add(-ledger.MinRetention), batch, nil)
	w.same(t)
	return res, err
}

// same fails unless the report and the shop's statement are as they
// were before archiving.
func (w *archiveWorld) same(t *testing.T) {
	t.Helper()
	after := w.e.Conserved()
	if !reflect.DeepEqual(reportOf(after), reportOf(w.before)) {
		t.Fatalf("report changed by archiving:\n%+v\nwas\n%+v", after, w.before)
	}
	lines, err := w.e.Svc.Statement(w.e.Ctx, "shop")
	if err != nil || !reflect.DeepEqual(lines, w.shopLines) {
		t.Fatalf("shop statement after archiving: %v %+v, was %+v", err, lines, w.shopLines)
	}
	if act, err := w.activityNow(); err != nil || !reflect.DeepEqual(act, w.activity) {
		t.Fatalf("activity after archiving: %v %+v, was %+v", err, act, w.activity)
	}
}

// testArchive: settled history moves out of the hot tables, and the
// ledger decides everything as before: the report and statements are
// the same, a double spend whose first half was archived is proven, a
// payee's upload of an archived payment credits nothing twice, a re-sent
// archived entry is still compared, a pending payment is still claimed.
func testArchive(t *testing.T, open Opener) {
	w := newArchiveWorld(t, open)
	e := w.e
	_, err := e.Svc.Archive(e.Ctx, e.Now().Add(-ledger.MinRetention+time.Minute), 0, nil)
	Code(t, err, "invalid") // inside the claim window
	res, err := w.archive(t, e.Svc.Service, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved[ledger.ArchivePayments] != 3 || res.Moved[ledger.ArchiveEntries] == 0 || res.Moved[ledger.ArchiveLines] == 0 ||
		res.Moved[ledger.ArchiveOutbox] != int64(w.delivered) {
		t.Fatalf("moved %v (delivered notifications %d)", res.Moved, w.delivered)
	}
	// Run again: nothing more moves.
	if again, err := w.archive(t, e.Svc.Service, 0); err != nil || again.Moved[ledger.ArchivePayments]+again.Moved[ledger.ArchiveEntries]+
		again.Moved[ledger.ArchiveLines]+again.Moved[ledger.ArchiveOutbox] != 0 {
		t.Fatalf("second archive: %v %v", again, err)
	}

	// Replays of archived history: the payer's and bob's whole logs
	// again (entries compared with the archived ones), nothing changes.
	e.SyncAll(w.a)
	e.SyncAll(w.b)
	w.same(t)

	// Gina's log, whose payment bob's upload recorded and which was
	// archived: her pay entry is recognised as that payment.
	if r := e.SyncAll(w.g); r.Acked != w.g.Counter() {
		t.Fatalf("gina's result: %+v", r)
	}
	if r := e.Conserved(); r.Settled != w.before.Settled || e.Dev(w.b).Received != 87 || e.Dev(w.g).Sent != 7 {
		t.Fatalf("after gina's upload of an archived payment: settled %d (was %d), bob %+v, gina %+v", r.Settled, w.before.Settled, e.Dev(w.b), e.Dev(w.g))
	}

	// Erin's receive entry of a payment settled (and archived) by
	// alice's receipt: recognised as recorded, credited once.
	w.f.Receive(w.toErin)
	if r := e.SyncAll(w.f); statusOf(r, w.toErin.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("erin's result: %+v", r)
	}
	if d := e.Dev(w.f); d.Received != 15 || d.Position != 15 {
		t.Fatalf("erin after her receive entry of an archived payment: %+v", d)
	}
	// The shop's, of its sale (not archived while refundable).
	w.m.Receive(w.toShop)
	if r := e.SyncAll(w.m); statusOf(r, w.toShop.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("shop's result: %+v", r)
	}
	if got := e.Balance("shop"); got != 20 {
		t.Fatalf("shop balance %d after its receive entry of an archived payment, want 20", got)
	}
	if r := e.Conserved(); r.Settled != w.before.Settled {
		t.Fatalf("settled %d, was %d", r.Settled, w.before.Settled)
	}

	// Dave's payment was pending: not archived, and still claimed.
	w.d.Receive(w.toDave)
	if r := e.SyncAll(w.d); statusOf(r, w.toDave.Payment.ID()) != protocol.StatusSettled {
		t.Fatalf("dave's claim after archiving: %+v", r)
	}

	// Carol's half of the double spend: proven against bob's archived
	// half (the archived entry and payment are the evidence).
	e.SyncAll(w.c)
	r := e.Conserved()
	if len(r.DoubleSpends) != 1 || r.DoubleSpends[0].Device != w.a.ID.String() {
		t.Fatalf("double spend with its first half archived: proofs %+v", r.DoubleSpends)
	}
	checkProof(t, w.a.Cert, r.DoubleSpends[0].EntryA, r.DoubleSpends[0].EntryB, w.b.Cert, w.c.Cert)
	if len(r.RevokedDevices) != 1 || r.RevokedDevices[0] != w.a.ID.String() {
		t.Fatalf("revoked: %v", r.RevokedDevices)
	}
	if e.Dev(w.b).Position != 87 || e.Dev(w.c).Position != 80 {
		t.Fatalf("payees not both honoured once: %+v %+v", e.Dev(w.b), e.Dev(w.c))
	}
}

// archiveFaultStore fails the n-th ArchiveStep (counting across
// transactions), as a crash in the middle of an archive run would.
type archiveFaultStore struct {
	ledger.Store
	n, cnt int
}

var errArchiveCrash = errors.New("injected crash while archiving")

func (f *archiveFaultStore) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	return f.Store.Update(ctx, func(tx ledger.Tx) error { return fn(&archiveFaultTx{Tx: tx, f: f}) })
}

type archiveFaultTx struct {
	ledger.Tx
	f *archiveFaultStore
}

func (t *archiveFaultTx) ArchiveStep(ctx context.Context, table string, before int64, cursor []byte, limit int) (int, []byte, error) {
	moved, next, err := t.Tx.ArchiveStep(ctx, table, before, cursor, limit)
	if t.f.cnt++; t.f.cnt == t.f.n {
		return 0, nil, errArchiveCrash // after the writes: the transaction must leave none
	}
	return moved, next, err
}

// testArchiveCrash: an archive run stopped at each of its transactions
// leaves the ledger as it was or further archived, answering the same,
// and running it again finishes the work: the same rows archived as in
// one uninterrupted run.
func testArchiveCrash(t *testing.T, open Opener) {
	clean := newArchiveWorld(t, open)
	want, err := clean.archive(t, clean.e.Svc.Service, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts, err := clean.e.Svc.Archived(clean.e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= want.Transactions; n += max(1, want.Transactions/6) {
		w := newArchiveWorld(t, open)
		faulty := ledger.New(&archiveFaultStore{Store: w.e.Store, n: n}, testKeys(t), ledger.Options{Clock: w.e.Now})
		if _, err := w.archive(t, faulty, 2); !errors.Is(err, errArchiveCrash) {
			t.Fatalf("crash at transaction %d: %v", n, err)
		}
		if _, err := w.archive(t, w.e.Svc.Service, 2); err != nil {
			t.Fatalf("archive after a crash at transaction %d: %v", n, err)
		}
		got, err := w.e.Svc.Archived(w.e.Ctx)
		if err != nil || !reflect.DeepEqual(got, wantCounts) {
			t.Fatalf("after a crash at transaction %d and a rerun: archived %v (%v), want %v", n, got, err, wantCounts)
		}
	}
}

// reportOf is r without what a sync that changes nothing else still
// changes (a device's LastSeen), its outbox figures by value.
func reportOf(r *ledger.Report) ledger.Report {
	c := *r
	c.Devices = append([]ledger.DeviceReport(nil), r.Devices...)
	for i := range c.Devices {
		c.Devices[i].LastSeen = time.Time{}
	}
	if r.Outbox != nil {
		o := *r.Outbox
		c.Outbox = &o
	}
	return c
}
