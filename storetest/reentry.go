package storetest

import (
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// testReenterWithdrawalFrozen (found by the simulator: offpay sim --seed
// 131 --short --regress 0.1): the bank pays out a withdrawal, the ledger
// goes back to a backup taken before it, and the uploads the devices give
// back afterwards prove fraud on the account: it is frozen, and what its
// device overspent is recovered from the balance the bank had already paid
// out. Withdraw, the re-entry README asked for, was refused (the account
// is frozen) for ever: the ledger kept counting money that had left
// (issued and the account's balance too high by the withdrawal, the loss
// hidden as a recovery). ReenterWithdrawal enters it: the recovery taken
// from the money that had left is given back and the debt it covered is a
// loss, and every account, device and report figure ends as in the
// timeline without the restore. It is refused, changing nothing, while
// the balance with its recoveries lacks the amount; it applies one ref
// once, Withdraw's too.
func testReenterWithdrawalFrozen(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 150)
	e.Account("bob", false, 0)
	e.Account("carol", false, 0)
	a, b, c := e.Device("rw-a", "alice"), e.Device("rw-b", "bob"), e.Device("rw-c", "carol")
	e.Load(a, 100)
	backup := e.backup()

	// What the backup does not hold: alice cashes out the rest of her
	// account, then her cloned SE pays two payees with one counter.
	if _, err := e.Svc.Withdraw(e.Ctx, "alice", 50, "bank-50"); err != nil {
		t.Fatal(err)
	}
	a2 := a.Clone()
	b.Receive(a.Pay(b.ID, 80))
	c.Receive(a2.Pay(c.ID, 80))
	syncs := func() {
		t.Helper()
		e.SyncAll(b)
		e.SyncAll(c)
		_, err := e.Svc.Sync(e.Ctx, a.UploadAll())
		Code(t, err, offpay.EFORBIDDEN)
	}
	syncs()
	before := e.state("alice", "bob", "carol")
	if r := before.report; !e.frozen("alice") || r.Losses != 60 || r.Recovered != 0 || r.Issued != 100 {
		t.Fatalf("before the restore: frozen %v, report %+v", e.frozen("alice"), r)
	}

	// The ledger goes back; the devices give their logs back first.
	e.restoreRecorded(backup)
	syncs()
	if r := e.Conserved(); !e.frozen("alice") || e.Balance("alice") != 0 || r.Recovered != 50 || r.Losses != 10 || r.Issued != 150 {
		t.Fatalf("after the devices synced: balance %d, report %+v", e.Balance("alice"), r)
	}
	held := e.state("alice", "bob", "carol")
	unchanged := func(what string) {
		t.Helper()
		now := e.state("alice", "bob", "carol")
		if now.report.Issued != held.report.Issued || now.report.Recovered != held.report.Recovered || now.report.Losses != held.report.Losses ||
			now.balances["alice"] != held.balances["alice"] || len(e.lines("alice", ledger.LineWithdraw)) != 0 {
			t.Fatalf("%s changed the ledger: %+v, before %+v", what, now.report, held.report)
		}
	}
	// A new withdrawal from a frozen account is refused, as ever.
	_, err := e.Svc.Withdraw(e.Ctx, "alice", 50, "bank-50")
	Code(t, err, offpay.EFORBIDDEN)
	unchanged("a refused withdrawal")
	// More than the balance and its recoveries: refused, nothing moves.
	_, err = e.Svc.ReenterWithdrawal(e.Ctx, "alice", 51, "bank-51")
	Code(t, err, offpay.ELIMIT)
	unchanged("a refused re-entry")
	for _, bad := range []struct {
		amount int64
		ref    string
	}{{0, "bank-0"}, {-50, "bank-neg"}, {50, ""}} {
		_, err = e.Svc.ReenterWithdrawal(e.Ctx, "alice", bad.amount, bad.ref)
		Code(t, err, offpay.EINVALID)
	}
	_, err = e.Svc.ReenterWithdrawal(e.Ctx, "nobody", 50, "bank-50")
	Code(t, err, offpay.ENOTFOUND)
	unchanged("bad input")

	// The bank's record, re-entered.
	acc, err := e.Svc.ReenterWithdrawal(e.Ctx, "alice", 50, "bank-50")
	if err != nil || acc.Balance != 0 || !acc.Frozen {
		t.Fatalf("re-entry: %+v %v", acc, err)
	}
	after := e.state("alice", "bob", "carol")
	r0, r1 := before.report, after.report
	if !r1.ConservationOK || r1.Issued != r0.Issued || r1.Accounts != r0.Accounts || r1.Outstanding != r0.Outstanding ||
		r1.Losses != r0.Losses || r1.Recovered != r0.Recovered || r1.Unassessed != r0.Unassessed || r1.Settled != r0.Settled {
		t.Fatalf("report after the re-entry:\n%+v\nwithout the restore:\n%+v", r1, r0)
	}
	for k, v := range before.balances {
		if after.balances[k] != v {
			t.Fatalf("account %s: %d, without the restore %d", k, after.balances[k], v)
		}
	}
	for k, v := range before.positions {
		if after.positions[k] != v {
			t.Fatalf("device %s: position %d, without the restore %d", k, after.positions[k], v)
		}
	}
	if w, rf := e.lines("alice", ledger.LineWithdraw), e.lines("alice", ledger.LineRefund); len(w) != 1 || w[0].Amount != -50 || w[0].Ref != "bank-50" ||
		len(rf) != 1 || rf[0].Amount != 50 {
		t.Fatalf("statement: withdrawals %+v, recoveries given back %+v", w, rf)
	}

	// One ref applies once, through either call; reused for another
	// amount it is a conflict.
	if _, err := e.Svc.ReenterWithdrawal(e.Ctx, "alice", 50, "bank-50"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Withdraw(e.Ctx, "alice", 50, "bank-50"); err != nil {
		t.Fatal(err)
	}
	_, err = e.Svc.ReenterWithdrawal(e.Ctx, "alice", 40, "bank-50")
	Code(t, err, offpay.ECONFLICT)
	if r := e.Conserved(); r.Issued != r0.Issued || r.Losses != r0.Losses || len(e.lines("alice", ledger.LineWithdraw)) != 1 {
		t.Fatalf("after the repeats: %+v", r)
	}
}
