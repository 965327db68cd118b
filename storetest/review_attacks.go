package storetest

import (
	"testing"
	"time"

	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// Review attacks (branch review): released sales (79b77be..77a206c) and
// deadlines after a restore (e3f7288). Each case is what a merchant with
// its till's key, or with an honest SE and a set-back clock, and a friend
// can do; the comments say what the ledger must do.

// releaseDelay is what it takes a till's unsynced sale to be released:
// RefundWindow + the merchant's 14 offline days.
const releaseDelay = time.Duration(protocol.RefundWindow)*time.Second + 14*day + time.Minute

// testAttackReleasedRefundProofs: a released sale is still known, so
// every refund of it no honest SE signs is a proof, whether uploaded by
// the friend or the till, after the shop withdrew the released takings:
// above the sale, to another payer, or a second refund. The till is
// revoked and the account frozen; the report balances.
func testAttackReleasedRefundProofs(t *testing.T, open Opener) {
	for _, v := range []string{"above", "otherPayer", "twice", "twiceTillFirst"} {
		t.Run(v, func(t *testing.T) {
			w := newRefundWorld(t, open)
			e := w.e
			sale := w.a.Pay(w.other.ID, 50)
			w.other.Receive(sale)
			w.other.ApplySync(e.SyncAll(w.other))
			e.Advance(releaseDelay)
			e.assess()
			if _, err := e.Svc.Withdraw(e.Ctx, "shop2", 50, "w1"); err != nil {
				t.Fatalf("released takings not free: %v", err)
			}
			switch v {
			case "above":
				w.a.Receive(w.other.Refund(sale, 60))
			case "otherPayer":
				w.b.Receive(w.other.RefundOf(w.b.ID, sale.Payment.ID(), 50))
			case "twice", "twiceTillFirst":
				w.a.Receive(w.other.Refund(sale, 50))
				w.b.Receive(w.other.RefundOf(w.b.ID, sale.Payment.ID(), 50))
			}
			order := []*ledgertest.Device{w.a, w.b, w.other}
			if v == "twiceTillFirst" {
				order = []*ledgertest.Device{w.other, w.a, w.b}
			}
			for _, d := range order {
				// a revoked till's upload is refused: that is the answer
				_, _ = e.Svc.Sync(e.Ctx, d.UploadAll())
			}
			r := e.Conserved()
			if !revokedIn(r, w.other) || !e.frozen("shop2") {
				t.Fatalf("%s: till not revoked (revoked %v), shop2 frozen %v", v, r.RevokedDevices, e.frozen("shop2"))
			}
		})
	}
}

// testAttackForfeitMask: a till whose released sale's late refund left a
// shortfall (Forfeit 50, not revoked, as README admits) then overspends
// for real: its own log shows a refund of 40 naming no sale the ledger
// knows, to a friend (a till pays nothing but refunds: a merchant's
// per-payment limit is 0), so unfunded: an overspend. The
// Forfeit must not mask it (exposure: pos+Forfeit < 0): revoked.
// Variants: the overspend in the same upload as the refund, and in a later
// one; and the refund expiring unclaimed (the payee never uploads and is
// revoked, so expireOrphans returns the full refund to the shop) before
// the overspend.
func testAttackForfeitMask(t *testing.T, open Opener) {
	for _, v := range []string{"sameUpload", "laterUpload", "refundExpired"} {
		t.Run(v, func(t *testing.T) {
			w := newRefundWorld(t, open)
			e := w.e
			sale := w.a.Pay(w.other.ID, 50)
			w.other.Receive(sale)
			w.other.ApplySync(e.SyncAll(w.other))
			refund := w.other.Refund(sale, 50) // dated back, inside its offline days
			w.a.Receive(refund)
			e.Advance(releaseDelay)
			e.assess()
			if _, err := e.Svc.Withdraw(e.Ctx, "shop2", 50, "w1"); err != nil {
				t.Fatal(err)
			}
			if v == "sameUpload" {
				w.b.Receive(w.other.RefundOf(w.b.ID, protocol.Hash{7}, 40)) // no such sale: unfunded
			}
			_, _ = e.Svc.Sync(e.Ctx, w.other.UploadAll()) // refused if it revokes the till
			if r := e.Conserved(); v != "sameUpload" && revokedIn(r, w.other) {
				t.Fatalf("till revoked for its late refund alone: %v", r.RevokedDevices)
			}
			if d := e.Dev(w.other); d.Forfeit != 50 {
				t.Fatalf("till forfeit %d, want the 50 shortfall", d.Forfeit)
			}
			if v == "refundExpired" {
				// alice's wallet never claims it; her device is revoked
				// (lost), so the refund expires back to the shop.
				if err := e.Svc.Revoke(e.Ctx, w.a.ID, "review: payee gone"); err != nil {
					t.Fatal(err)
				}
				e.Advance(time.Duration(protocol.ClaimWindow)*time.Second + time.Minute)
				e.assess()
				e.Conserved()
			}
			if v != "sameUpload" {
				w.other.Time = uint64(e.Now().Unix())
				w.b.Receive(w.other.RefundOf(w.b.ID, protocol.Hash{7}, 40))
				_, _ = e.Svc.Sync(e.Ctx, w.other.UploadAll())
			}
			e.SyncAll(w.b)
			r := e.Conserved()
			if !revokedIn(r, w.other) {
				d := e.Dev(w.other)
				t.Fatalf("%s: the till's own log shows an overspend of 40 and it is not revoked (%+v, losses %d)",
					v, d, r.Losses)
			}
		})
	}
}

// testAttackRestoredOldDeadline: the restore floor (deadline(), meta
// restored_at) applies only to deficits that appear after the restore. A
// deficit already in the backup keeps the AssessBy fixed from the device's
// old ledger time, although the restore lost the sync that explained it
// and gave the device a later ledger time, hence a later offline life.
// Day 0: alice (honest) receives 60 from carol and pays bob 150 of her
// 160; bob uploads: alice's deficit 50, deadline day 10 (7 days + claim
// window). Backup. Day 5: alice syncs (explained; her SE's offline life now
// runs to day 12). Day 6: the ledger is restored to the backup. At day 10
// Assess revokes honest alice, inside her offline life, before she has
// any reason to sync: the harm e3f7288 fixed for new deficits.
func testAttackRestoredOldDeadline(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a, _ := deficitExplainedLater(e, "ro")
	if r := e.Conserved(); r.Unassessed != 50 {
		t.Fatalf("unassessed %d", r.Unassessed)
	}
	backup := e.backup()
	e.Advance(5 * day)
	resA := e.SyncAll(a)
	if r := e.Conserved(); r.Unassessed != 0 || revokedIn(r, a) {
		t.Fatalf("alice's sync: unassessed %d", r.Unassessed)
	}
	e.Advance(1 * day)
	e.restoreRecorded(backup)
	e.Advance(4*day + time.Minute) // day 10: inside alice's offline life (to day 12)
	e.assess()
	r := e.Conserved()
	if revokedIn(r, a) || e.frozen("alice") {
		t.Fatalf("honest alice revoked at her pre-restore deadline (day 10) inside the offline life her lost day-5 sync gave her: revoked %v, alice frozen %v, recovered %d",
			r.RevokedDevices, e.frozen("alice"), r.Recovered)
	}
	// Day 11: alice syncs, well inside her offline life: explained.
	e.Advance(1 * day)
	e.resync(a, resA)
	if r := e.Conserved(); revokedIn(r, a) || r.Unassessed != 0 {
		t.Fatalf("after alice's re-upload: revoked %v unassessed %d", r.RevokedDevices, r.Unassessed)
	}
}

// deficitExplainedLater: alice (100 loaded) receives 60 from carol and
// pays bob 150 offline; bob syncs, so the ledger sees alice 50 short until
// her own upload shows what she received. Returns alice's and bob's
// devices (named prefix-a, prefix-b).
func deficitExplainedLater(e *Env, prefix string) (a, b *ledgertest.Device) {
	e.Account("alice", false, 100)
	e.Account("carol", false, 100)
	e.Account("bob", false, 0)
	a, c, b := e.Device(prefix+"-a", "alice"), e.Device(prefix+"-c", "carol"), e.Device(prefix+"-b", "bob")
	e.Load(a, 100)
	e.Load(c, 100)
	a.Receive(c.Pay(a.ID, 60))
	b.Receive(a.Pay(b.ID, 150))
	e.SyncAll(b)
	return a, b
}

// testAttackRestoredOldDeadlineSettle: AttackRestoredOldDeadline with the
// deadline reached in a settlement instead of the assessment: on day 10
// bob uploads a new payment from alice, which makes the ledger look at
// alice's deficit again. The deadline stored before the restore (day 10)
// must be raised to the restore's floor there too.
func testAttackRestoredOldDeadlineSettle(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	a, b := deficitExplainedLater(e, "ros")
	backup := e.backup()
	e.Advance(5 * day)
	e.SyncAll(a) // explains the deficit; lost by the restore
	e.Advance(1 * day)
	e.restoreRecorded(backup)
	e.Advance(4*day - time.Hour)
	b.Receive(a.Pay(b.ID, 5))
	e.Advance(time.Hour + time.Minute) // day 10: inside alice's offline life (to day 12)
	e.SyncAll(b)
	if r := e.Conserved(); revokedIn(r, a) || e.frozen("alice") {
		t.Fatalf("honest alice revoked by a settlement at her pre-restore deadline (day 10), inside the offline life her lost sync gave her: revoked %v", r.RevokedDevices)
	}
}

// testAttackRestoreForger: a forger (key taken out, within its offline
// limits, never syncs) whose deficit appears after a restore is held only
// until the restore + one offline life + claim window, however it spreads
// its forgeries over that time.
func testAttackRestoreForger(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("mal", false, 100)
	e.Account("bob", false, 0)
	m, b := e.Device("rf2-m", "mal"), e.Device("rf2-b", "bob")
	e.Load(m, 100)
	backup := e.backup()
	e.Advance(6 * day)
	e.restoreRecorded(backup)
	// Restore at day 6: mal forges 50 beyond his 100 (PayAt, unlogged).
	e.Advance(1 * day)
	b.Receive(m.PayAt(b.ID, 150, 1))
	e.SyncAll(b)
	// Day 12: mal forges again (counter 2).
	e.Advance(5 * day)
	b.Receive(m.PayAt(b.ID, 100, 2))
	e.SyncAll(b)
	// Day 16 + 1 min: restore + 7 + 3: every deficit of mal is final.
	e.Advance(4*day + time.Minute)
	e.assess()
	if r := e.Conserved(); !revokedIn(r, m) {
		t.Fatalf("forger not revoked at restore + offline life + claim window: revoked %v unassessed %d", r.RevokedDevices, r.Unassessed)
	}
}

// testAttackFutureSale: the payer's clock dates the sale (protocol: the
// payer signs Time); a customer whose clock is ten years ahead pays a
// shop's till. The till's SE accepts it (claimable refuses only payments
// too old) and the ledger holds the shop's account for it until the sale's
// time + RefundWindow + the till's offline days: a decade. Griefing (no
// money created): an honest shop could not withdraw its takings. The hold
// now counts from the ledger's time when the sale is dated after it
// (refunds.go openSale): released after the usual delay.
func testAttackFutureSale(t *testing.T, open Opener) {
	w := newRefundWorld(t, open)
	e := w.e
	w.a.Time = uint64(e.Now().Add(10 * 365 * day).Unix())
	w.other.Receive(w.a.Pay(w.other.ID, 50))
	w.other.ApplySync(e.SyncAll(w.other))
	e.Advance(releaseDelay + 30*day)
	e.assess()
	if acc := e.account("shop2"); acc.Held != 0 {
		t.Fatalf("shop2 still holds %d for a sale dated ten years ahead by its payer's clock, %v after it", acc.Held, releaseDelay+30*day)
	}
}
