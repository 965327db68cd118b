package storetest

import (
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// The attacks in this file are played by the owner of the device: they
// have opened their own SE's state with their PIN, taken the key, copied
// and rolled back the files, and sign whatever entries they like. Every
// entry is validly signed; only the ledger's rules stand in the way.

const day = 24 * time.Hour

// assess runs the ledger's deadline work at the Env's clock.
func (e *Env) assess() *ledger.Assessment {
	e.T.Helper()
	a, err := e.Svc.Assess(e.Ctx)
	if err != nil {
		e.T.Fatalf("assess: %v", err)
	}
	return a
}

// frozen reports whether an account is frozen.
func (e *Env) frozen(name string) bool {
	e.T.Helper()
	a, err := e.Svc.Account(e.Ctx, name)
	if err != nil {
		e.T.Fatal(err)
	}
	return a.Frozen
}

// revokedIn reports whether d is listed revoked in r.
func revokedIn(r *ledger.Report, d *ledgertest.Device) bool {
	for _, id := range r.RevokedDevices {
		if id == d.ID.String() {
			return true
		}
	}
	return false
}

// testHugeCounter (money-safety finding 1): a 1-cent payment signed with
// counter 2^62, accepted by the owner's second wallet, used to raise the
// payer's highest known counter for good, so that its overspend was never
// assessed: the owner then uploaded self-signed redeems worth 5,000x the
// deposit and withdrew them, and the report still said conservation
// holds, with negative issued and outstanding. A counter no honest SE can
// have reached is evidence of a broken SE: the payer is revoked and its
// account frozen, the counter moves no high-water mark, the redeems are
// recovered, nothing leaves, and the report adds up without netting.
func testHugeCounter(t *testing.T, open Opener) {
	for _, order := range []string{"payee-first", "redeems-first"} {
		t.Run(order, func(t *testing.T) {
			e := NewEnv(t, open)
			e.Account("mal", false, 100)
			e.Account("mal2", false, 0)
			a, b := e.Device("hc-a", "mal"), e.Device("hc-b", "mal2")
			e.Load(a, 100)
			b.Receive(a.PayAt(b.ID, 1, 1<<62))
			for range 10 {
				a.Redeem(50000) // each at the holding limit: 500,000 in all
			}
			syncA := func() {
				if _, err := e.Svc.Sync(e.Ctx, a.UploadAll()); err != nil && offpay.ErrorCode(err) != offpay.EFORBIDDEN {
					t.Fatalf("payer's upload: %v", err)
				}
			}
			if order == "payee-first" {
				e.SyncAll(b)
				if r := e.Conserved(); !revokedIn(r, a) || !e.frozen("mal") {
					t.Fatalf("implausible counter did not revoke the payer: %+v", r.RevokedDevices)
				}
				syncA()
			} else {
				syncA()
				e.SyncAll(b)
			}
			if _, err := e.Svc.Withdraw(e.Ctx, "mal", 500000, "cash-out"); err == nil {
				t.Fatalf("the owner withdrew the redeems")
			}
			if _, err := e.Svc.Withdraw(e.Ctx, "mal", 1, "cash-out-1"); err == nil {
				t.Fatalf("a frozen account paid out")
			}
			r := e.Conserved()
			if r.Issued != 100 || r.Losses != 0 || r.Outstanding < 0 || r.Unassessed != 0 || !revokedIn(r, a) {
				t.Fatalf("report: issued %d losses %d outstanding %d unassessed %d revoked %v", r.Issued, r.Losses, r.Outstanding, r.Unassessed, r.RevokedDevices)
			}
			if d := e.Dev(b); d.Position != 1 {
				t.Fatalf("payee not honoured: %+v", d)
			}
			if bal := e.Balance("mal"); bal > 99 {
				t.Fatalf("mal holds %d after loading 100 and paying 1", bal)
			}
		})
	}
}

// testImplausibleCounter: the bound itself. A payment just inside it
// moves the high-water mark; one past it revokes and moves nothing.
func testImplausibleCounter(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100)
	e.Account("bob", false, 0)
	a, b := e.Device("ic-a", "alice"), e.Device("ic-b", "bob")
	e.Load(a, 100)
	e.SyncAll(a) // acked 1
	b.Receive(a.PayAt(b.ID, 1, 1+protocol.MaxUnackedEntries))
	e.SyncAll(b)
	if r := e.Conserved(); revokedIn(r, a) {
		t.Fatalf("a counter inside the bound revoked the payer")
	}
	b.Receive(a.PayAt(b.ID, 1, 2+protocol.MaxUnackedEntries))
	e.SyncAll(b)
	r := e.Conserved()
	if !revokedIn(r, a) || !e.frozen("alice") {
		t.Fatalf("a counter past the bound did not revoke the payer")
	}
	if d := e.Dev(b); d.Position != 2 {
		t.Fatalf("payee not honoured for both: %+v", d)
	}
	if res, err := e.Svc.Sync(e.Ctx, a.UploadAll()); err == nil {
		t.Fatalf("revoked payer synced: %+v", res)
	}
}

// testDistinctCounterClone (finding 2): a copy of the SE pays Bob at
// counter 2; another copy first receives a cent (counter 2), then pays
// Carol at counter 3. The payees sync, the payer never does. No proof
// exists, but the device's deficit is shown as unassessed exposure,
// the account cannot pay it out, and at the device's offline deadline
// plus the claim window the deficit is recovered, the device revoked and
// the account frozen: never syncing postpones nothing.
func testDistinctCounterClone(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("mal", false, 400)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	e.Account("dave", false, 10)
	a, b, c, d := e.Device("dc-a", "mal"), e.Device("dc-b", "bob"), e.Device("dc-c", "carol"), e.Device("dc-d", "dave")
	e.Load(a, 200)
	e.Load(d, 10)
	a2 := a.Clone()
	b.Receive(a.Pay(b.ID, 200))  // counter 2
	a2.Receive(d.Pay(a2.ID, 1))  // counter 2: a non-payment entry
	c.Receive(a2.Pay(c.ID, 200)) // counter 3
	e.SyncAll(b)
	e.SyncAll(c)
	e.SyncAll(d)
	r := e.Conserved()
	if r.Unassessed != 200 || e.Dev(a).Unassessed != 200 || r.Losses != 0 || r.Recovered != 0 {
		t.Fatalf("exposure not shown: unassessed %d (device %d) losses %d", r.Unassessed, e.Dev(a).Unassessed, r.Losses)
	}
	if e.Dev(b).Position != 200 || e.Dev(c).Position != 200 {
		t.Fatalf("payees not honoured")
	}
	// Held: the 200 left on the account backs the deficit.
	if _, err := e.Svc.Withdraw(e.Ctx, "mal", 1, "w1"); offpay.ErrorCode(err) != offpay.ELIMIT {
		t.Fatalf("withdrawal from a held account: %v", err)
	}
	if _, err := e.Svc.Reserve(e.Ctx, a.Reserve(1, 777)); offpay.ErrorCode(err) != offpay.ELIMIT {
		t.Fatalf("reserve from a held account: %v", err)
	}
	if acc, _ := e.Svc.Account(e.Ctx, "mal"); acc.Held != 200 || acc.Balance != 200 {
		t.Fatalf("account: %+v", acc)
	}
	// Just before the deadline (7 offline days + the 3-day claim window
	// after the last ledger time the device saw) nothing is final.
	e.Advance(10*day - time.Minute)
	e.assess()
	if r := e.Conserved(); revokedIn(r, a) || r.Unassessed != 200 {
		t.Fatalf("assessed before the deadline")
	}
	e.Advance(2 * time.Minute)
	if got := e.assess(); got.Revoked != 1 {
		t.Fatalf("assessment: %+v", got)
	}
	r = e.Conserved()
	if !revokedIn(r, a) || !e.frozen("mal") || r.Recovered != 200 || r.Losses != 0 || r.Unassessed != 0 || e.Balance("mal") != 0 {
		t.Fatalf("after the deadline: revoked %v recovered %d losses %d unassessed %d balance %d",
			r.RevokedDevices, r.Recovered, r.Losses, r.Unassessed, e.Balance("mal"))
	}
	// Running it again changes nothing.
	if got := e.assess(); got.Revoked != 0 || got.Expired != 0 {
		t.Fatalf("second assessment: %+v", got)
	}
	// An empty sync does not move the deadline: a clone that keeps one
	// copy in touch with the ledger is assessed all the same.
	e3 := NewEnv(t, open)
	e3.Account("mal", false, 400)
	e3.Account("bob", false, 0)
	x, y := e3.Device("dc3-x", "mal"), e3.Device("dc3-y", "bob")
	e3.Load(x, 200)
	e3.SyncAll(x) // acked 1
	x2 := x.Clone()
	x2.Append(protocol.EntrySync, (&protocol.SyncApplied{Version: protocol.Version, Device: x.ID, Time: x.Time}).Marshal())
	y.Receive(x.Pay(y.ID, 150))  // counter 2 of one copy
	y.Receive(x2.Pay(y.ID, 150)) // counter 3 of the other
	e3.SyncAll(y)
	if got := e3.Conserved().Unassessed; got != 100 {
		t.Fatalf("unassessed %d, want 100", got)
	}
	for range 12 {
		e3.Advance(day)
		// The copy that keeps in touch uploads nothing new.
		if _, err := e3.Svc.Sync(e3.Ctx, x.Upload(2, 1)); err != nil && offpay.ErrorCode(err) != offpay.EFORBIDDEN {
			t.Fatal(err)
		}
		e3.assess()
	}
	if r := e3.Conserved(); !revokedIn(r, x) || r.Unassessed != 0 || r.Recovered != 100 {
		t.Fatalf("empty syncs postponed the assessment: revoked %v unassessed %d recovered %d", r.RevokedDevices, r.Unassessed, r.Recovered)
	}
}

// testRolledBackPayee (finding 3): A pays B; B's receipt, naming its
// counter k, is in A's confirm entry. A copy of B rolled back to before
// the payment syncs past the claim window with a sync entry at counter
// k. The receipt and that entry are two statements B signed for one
// counter: a proof anyone can check. B is revoked and its account
// frozen, and the payment, which has a valid receipt, is claimed, never
// expired and refunded to A, whatever the upload order.
func testRolledBackPayee(t *testing.T, open Opener) {
	for _, order := range []string{"rollback-first", "payer-first"} {
		t.Run(order, func(t *testing.T) {
			e := NewEnv(t, open)
			e.Account("alice", false, 100)
			e.Account("bob", false, 0)
			a, b := e.Device("rb-a", "alice"), e.Device("rb-b", "bob")
			e.Load(a, 50)
			b2 := b.Clone() // before the payment
			p := a.Pay(b.ID, 30)
			b.Receive(p) // counter 1
			rc := b.Receipt(p)
			if rc.Counter != 1 {
				t.Fatalf("receipt counter %d", rc.Counter)
			}
			a.Confirm(rc)
			syncedAt(b2, p.Payment.Time+protocol.ClaimWindow) // counter 1 of the rolled-back copy
			syncB2 := func() {
				_, err := e.Svc.Sync(e.Ctx, b2.UploadAll())
				if order == "payer-first" {
					Code(t, err, offpay.EFORBIDDEN)
				} else if err != nil {
					t.Fatalf("rolled-back copy's first upload: %v", err)
				}
			}
			var res *protocol.SyncResult
			if order == "rollback-first" {
				syncB2()
				res = e.SyncAll(a)
			} else {
				res = e.SyncAll(a)
				syncB2()
			}
			if order == "rollback-first" && statusOf(res, p.Payment.ID()) != protocol.StatusSettled {
				t.Fatalf("payment with a valid receipt: status %d", statusOf(res, p.Payment.ID()))
			}
			if k := e.lineKinds("alice"); k[ledger.LineExpired] != 0 {
				t.Fatalf("alice refunded a payment bob received: %+v", k)
			}
			r := e.Conserved()
			if len(r.DoubleSpends) != 1 || r.DoubleSpends[0].Device != b.ID.String() || r.DoubleSpends[0].Counter != 1 {
				t.Fatalf("proofs: %+v", r.DoubleSpends)
			}
			checkProof(t, b.Cert, r.DoubleSpends[0].EntryA, r.DoubleSpends[0].EntryB, a.Cert)
			if !revokedIn(r, b) || !e.frozen("bob") {
				t.Fatalf("rolled-back payee not revoked and frozen")
			}
			if d := e.Dev(b); d.Received != 30 {
				t.Fatalf("bob %+v", d)
			}
		})
	}
}

// testTwoReceiptsOneCounter: a rolled-back payee that signs two receipts
// for one counter (two payments accepted by two copies) is caught from
// the payers' uploads alone.
func testTwoReceiptsOneCounter(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100)
	e.Account("carol", false, 100)
	e.Account("bob", false, 0)
	a, c, b := e.Device("tr-a", "alice"), e.Device("tr-c", "carol"), e.Device("tr-b", "bob")
	e.Load(a, 50)
	e.Load(c, 50)
	b2 := b.Clone()
	pa, pc := a.Pay(b.ID, 20), c.Pay(b2.ID, 25)
	b.Receive(pa)
	b2.Receive(pc)
	a.Confirm(b.Receipt(pa))
	c.Confirm(b2.Receipt(pc))
	e.SyncAll(a)
	e.SyncAll(c)
	r := e.Conserved()
	if len(r.DoubleSpends) != 1 || r.DoubleSpends[0].Device != b.ID.String() || !revokedIn(r, b) {
		t.Fatalf("proofs %+v revoked %v", r.DoubleSpends, r.RevokedDevices)
	}
	checkProof(t, b.Cert, r.DoubleSpends[0].EntryA, r.DoubleSpends[0].EntryB, a.Cert, c.Cert)
	if d := e.Dev(b); d.Received != 45 {
		t.Fatalf("both payments are bob's: %+v", d)
	}
}

// testExpiryWithoutPayee (finding 4): a payment whose payee never syncs
// again used to stay pending for ever. Once its payee is revoked (a lost
// phone), or its payee's certificate has expired, it returns to the
// payer's account when the claim window has passed.
func testExpiryWithoutPayee(t *testing.T, open Opener) {
	for _, why := range []string{"revoked", "certificate-expired"} {
		t.Run(why, func(t *testing.T) {
			e := NewEnv(t, open)
			e.Account("alice", false, 100)
			e.Account("bob", false, 0)
			a, b := e.Device("ew-a", "alice"), e.Device("ew-b", "bob")
			e.Load(a, 50)
			a.Time = uint64(e.Now().Unix())
			p := a.Pay(b.ID, 30)
			if res := e.SyncAll(a); statusOf(res, p.Payment.ID()) != protocol.StatusPending {
				t.Fatalf("not pending")
			}
			var deadline time.Time
			if why == "revoked" {
				if err := e.Svc.Revoke(e.Ctx, b.ID, "lost"); err != nil {
					t.Fatal(err)
				}
				deadline = time.Unix(int64(p.Payment.Time+protocol.ClaimWindow), 0)
			} else {
				deadline = time.Unix(int64(b.Cert.NotAfter), 0)
			}
			e.Advance(deadline.Sub(e.Now()) - time.Minute)
			if got := e.assess(); got.Expired != 0 {
				t.Fatalf("expired before the deadline: %+v", got)
			}
			e.Advance(2 * time.Minute)
			if got := e.assess(); got.Expired != 1 {
				t.Fatalf("assessment: %+v", got)
			}
			if k := e.lineKinds("alice"); k[ledger.LineExpired] != 30 {
				t.Fatalf("alice's refund: %+v", k)
			}
			if why == "certificate-expired" {
				// a device whose certificate expired still syncs (and renews)
				if res := e.SyncAll(a); statusOf(res, p.Payment.ID()) != protocol.StatusExpired {
					t.Fatalf("payer's status: %+v", res.Statuses)
				}
			}
			if r := e.Conserved(); r.Settled != 0 {
				t.Fatalf("settled %d", r.Settled)
			}
		})
	}
}

// testLateDeficit: a deficit that first appears after its device's
// deadline has already passed (the payee kept the payment offline for
// longer) is assessed in the same settlement.
func testLateDeficit(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("mal", false, 150)
	e.Account("bob", false, 0)
	a, b := e.Device("ld-a", "mal"), e.Device("ld-b", "bob")
	e.Load(a, 100)
	b.Receive(a.Pay(b.ID, 150)) // counter 2: 50 more than the purse
	e.Advance(11 * day)
	e.SyncAll(b)
	r := e.Conserved()
	if !revokedIn(r, a) || !e.frozen("mal") || r.Recovered != 50 || r.Unassessed != 0 {
		t.Fatalf("late deficit: revoked %v recovered %d unassessed %d", r.RevokedDevices, r.Recovered, r.Unassessed)
	}
	// The deadline counts from the last ledger time the device was given:
	// a sync on day 5 moves it to day 15.
	e2 := NewEnv(t, open)
	e2.Account("mal", false, 150)
	e2.Account("bob", false, 0)
	a, b = e2.Device("ld2-a", "mal"), e2.Device("ld2-b", "bob")
	e2.Load(a, 100)
	e2.Advance(5 * day)
	e2.SyncAll(a)
	b.Receive(a.Pay(b.ID, 150))
	e2.Advance(6 * day)
	e2.SyncAll(b)
	if r := e2.Conserved(); revokedIn(r, a) || r.Unassessed != 50 {
		t.Fatalf("day 11: revoked %v unassessed %d", r.RevokedDevices, r.Unassessed)
	}
	e2.Advance(4*day + time.Minute)
	e2.assess()
	if r := e2.Conserved(); !revokedIn(r, a) || r.Recovered != 50 {
		t.Fatalf("day 15: revoked %v recovered %d", r.RevokedDevices, r.Recovered)
	}
}

// testOwnLogOverspend: an owner with the key signs a redeem beyond the
// purse into the device's own log. The log itself proves the overspend:
// the device is revoked and the account frozen at once, and the redeem's
// credit is recovered.
func testOwnLogOverspend(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("mal", false, 100)
	a := e.Device("ol-a", "mal")
	e.Load(a, 100)
	a.Redeem(300)
	if _, err := e.Svc.Sync(e.Ctx, a.UploadAll()); err != nil && offpay.ErrorCode(err) != offpay.EFORBIDDEN {
		t.Fatal(err)
	}
	r := e.Conserved()
	if !revokedIn(r, a) || !e.frozen("mal") || r.Recovered != 200 || r.Losses != 0 || e.Balance("mal") != 100 {
		t.Fatalf("own-log overspend: revoked %v recovered %d losses %d balance %d", r.RevokedDevices, r.Recovered, r.Losses, e.Balance("mal"))
	}
}

// testForfeit: an honest payee accepted a payment offline, then stayed
// away until its certificate had expired; the ledger returned the payment
// to its payer meanwhile. When the payee's log finally arrives, the value
// it received is forfeit: its position shows the deficit, which is
// recovered from its account, but its own log explains it, so it is not
// taken for a broken SE.
func testForfeit(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100)
	e.Account("bob", false, 40)
	e.Account("carol", false, 0)
	a, b, c := e.Device("ff-a", "alice"), e.Device("ff-b", "bob"), e.Device("ff-c", "carol")
	e.Load(a, 50)
	p := a.Pay(b.ID, 30)
	e.SyncAll(a)
	b.Receive(p)
	c.Receive(b.Pay(c.ID, 30))
	e.Advance(time.Unix(int64(b.Cert.NotAfter), 0).Sub(e.Now()) + time.Minute)
	if got := e.assess(); got.Expired != 1 {
		t.Fatalf("assessment %+v", got)
	}
	if res := e.SyncAll(b); statusOf(res, p.Payment.ID()) != protocol.StatusExpired {
		t.Fatalf("payee's status for the forfeit payment: %+v", res.Statuses)
	}
	e.SyncAll(c)
	r := e.Conserved()
	if revokedIn(r, b) || e.frozen("bob") {
		t.Fatalf("an honest payee was revoked: %v", r.RevokedDevices)
	}
	if r.Recovered != 30 || e.Balance("bob") != 10 || e.lineKinds("alice")[ledger.LineExpired] != 30 {
		t.Fatalf("recovered %d, bob %d, alice's refund %d", r.Recovered, e.Balance("bob"), e.lineKinds("alice")[ledger.LineExpired])
	}
}

// testExplainedAfterDeadline: an honest device that paid on value it had
// received stays away past its deadline; its payee's upload shows a
// deficit nothing explains, so at the deadline it is revoked and the
// deficit recovered from its account. When it comes back, its log is
// still settled (the sync answers revoked): the receipt explains the
// deficit and the recovery is refunded.
func testExplainedAfterDeadline(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 100)
	e.Account("bob", false, 50)
	e.Account("carol", false, 0)
	a, b, c := e.Device("ea-a", "alice"), e.Device("ea-b", "bob"), e.Device("ea-c", "carol")
	e.Load(a, 50)
	b.Receive(a.Pay(b.ID, 30))
	c.Receive(b.Pay(c.ID, 30))
	e.SyncAll(c)
	if acc, _ := e.Svc.Account(e.Ctx, "bob"); acc.Held != 30 {
		t.Fatalf("bob's account: %+v", acc)
	}
	e.Advance(11 * day)
	e.assess()
	if r := e.Conserved(); !revokedIn(r, b) || r.Recovered != 30 || e.Balance("bob") != 20 {
		t.Fatalf("at the deadline: revoked %v recovered %d bob %d", r.RevokedDevices, r.Recovered, e.Balance("bob"))
	}
	_, err := e.Svc.Sync(e.Ctx, b.UploadAll())
	Code(t, err, offpay.EFORBIDDEN)
	if r := e.Conserved(); r.Recovered != 0 || r.Unassessed != 0 || e.Balance("bob") != 50 || e.Dev(b).Position != 0 {
		t.Fatalf("after bob's log: recovered %d unassessed %d bob %d position %d", r.Recovered, r.Unassessed, e.Balance("bob"), e.Dev(b).Position)
	}
	e.SyncAll(a)
	if r := e.Conserved(); r.Settled != 2 || r.Recovered != 0 {
		t.Fatalf("final: %+v", r)
	}
}

// testBeyondOfflineLimits: a key taken out of an SE pays many payees
// offline, none of whom knows of the others; the SE's count and value
// limits no longer bind it. As soon as the payees' uploads show more
// unacknowledged payments, or more value, than its certificate's offline
// limits allow (which an honest SE frees only at a sync), the device is
// revoked, without waiting for its deadline.
func testBeyondOfflineLimits(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("mal", false, 100)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	a, b, c := e.Device("bl-a", "mal"), e.Device("bl-b", "bob"), e.Device("bl-c", "carol")
	e.Load(a, 100)
	lim := ledger.DefaultPolicy.Person
	per := lim.PerPayment
	var paid uint64
	for paid+per <= lim.MaxOfflineValue {
		b.Receive(a.Pay(b.ID, per))
		paid += per
	}
	e.SyncAll(b)
	if r := e.Conserved(); revokedIn(r, a) {
		t.Fatalf("revoked within its offline value")
	}
	c.Receive(a.Pay(c.ID, 1)) // one minor unit past max_offline_value
	e.SyncAll(c)
	r := e.Conserved()
	if !revokedIn(r, a) || !e.frozen("mal") || r.Unassessed != 0 {
		t.Fatalf("not revoked past its offline value: revoked %v unassessed %d", r.RevokedDevices, r.Unassessed)
	}
	if e.Dev(b).Position != int64(paid) || e.Dev(c).Position != 1 {
		t.Fatalf("payees not honoured")
	}
}
