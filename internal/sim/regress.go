package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// The ledger going back in time (issue 18, ledger/README.md "Recovery: a
// ledger that went back in time"): a power loss that takes the last
// commits, a backup restored after a dead disk. The generator places
// pairs of steps: a checkpoint, where the world copies the ledger's
// database aside with the store's own online backup (SQLite VACUUM INTO,
// pg_dump), and 1 to maxRegress steps later a regression, where the store
// is closed, the copy put back and a fresh ledger.Service opened on it,
// as an operator restoring a backup and restarting the ledger would (the
// restore recorded: Service.Restored). Every load, redeem, reserve,
// payment, claim, refund and sweep the ledger committed in between is
// gone with it.
//
// Devices then sync as the wallet does (wallet/recovery.go): an upload
// answered EBEHIND (or a result acknowledging less than the SE knows was
// acknowledged) is not applied; the device shows the ledger its last sync
// result, the ledger's own signed acknowledgement, as evidence
// (Service.Acknowledged), and uploads again from the ledger's counter out
// of its SE's archive. Deposits and withdrawals since the checkpoint are
// re-entered from the bank's records with their refs (each applies once),
// as the README asks of the operator, withdrawals as paid out
// (Service.ReenterWithdrawal: a freeze the logs given back prove since
// does not refuse them; found at offpay sim --seed 131 --short --regress
// 0.1, TestRegressReentersFrozenWithdrawal); a withdrawal the ledger
// refuses because the balance it came from is not back yet is retried
// after every later step and sync.
//
// Every invariant must hold through it; and after the drain no re-entry
// may still be refused (regress-unhealed).
//
// An attacker whose reserve a regression took may withdraw the balance
// the lost debit had taken, then give back its log: the ledger restores
// the load as forfeit (the account is empty), and the device spending it
// ends below zero, unrevoked, since its deficit is within value it held
// (exposure.go: pos+Forfeit): debt without fraud, a loss the report
// records and the loss bound (after a regression) allows. The final
// check reads the device's Forfeit from the report to tell it from an
// overspend (found at --regress 0.1:
// offpay sim --seed 1 --short --regress 0.1 --steps 34,39,46-48,58,69,73,93,98-99).
//
// An honest owner may do the same without meaning to: a regression takes
// a device's reserve, and the owner pays online from the account (or
// withdraws, or reserves on another purse) before that device syncs
// again; its log gives the load back, debited as far as the balance
// goes, and the rest is forfeit (ledger/README.md "Lost loads"): the
// ledger's position of the device is short of its SE by exactly its
// Forfeit, at most the loads regressions took from it (lostLoads), the
// owner's debt without fraud. The drain's position check allows that
// and nothing else, and the loss bound counts it as the owner's debt, not
// the operator's liability (lostLoadForfeit; found at offpay sim --seed
// 15 --regress 0.1, not --short; TestRegressLostLoadSpentOnline).

// maxRegress bounds how many steps a regression takes back.
const maxRegress = 30

// regressions places checkpoint and regression pairs among the steps
// after the setup. A checkpoint never comes before an enrolment its
// regression would take (the ledger cannot give back a certificate it
// lost: ledger/README.md), nor a revocation (nothing gives the ledger
// back an operator's revocation it lost), nor more than the claim window
// of ledger time before its regression: the SEs keep acknowledged
// entries that long (vse.ArchiveFor), and the design heals a ledger
// restored to any moment within it, no further. It may come before
// online payments: the world gives the ledger their receipts back after
// the regression, as wallets do after their next sync (reenterOnline).
func (g *gen) regressions(steps []Step) []Step {
	if g.cfg.Regress <= 0 {
		return steps
	}
	out := make([]Step, 0, len(steps)+4)
	floor := 0 // no checkpoint before the last regression, enrolment or revocation
	for _, s := range steps {
		out = append(out, s)
		if s.Op == opEnrol || s.Op == opRevoke {
			floor = len(out)
		}
		if g.r.Float64() >= g.cfg.Regress {
			continue
		}
		at := max(floor, len(out)-1-g.r.IntN(maxRegress))
		for span(out[at:]) >= int64(protocol.ClaimWindow)*9/10 {
			at++
		}
		out = slices.Insert(out, at, Step{Op: opCheckpoint})
		out = append(out, Step{Op: opRegress})
		floor = len(out)
	}
	return out
}

// span is the ledger time steps take (RunProgram moves the clock a
// minute a step).
func span(steps []Step) int64 {
	var t int64
	for _, s := range steps {
		t += 60
		if s.Op == opAdvance {
			t += s.Amount
		}
	}
	return t
}

// adminOp is a deposit or withdrawal the ledger applied: the bank's record
// of it, re-entered (same ref) after a regression took it.
type adminOp struct {
	person   int
	withdraw bool
	amount   int64
	ref      string
}

// backupStore is a store that copies itself aside while serving and goes
// back to such a copy (both sqlite.Store and postgres.Store).
type backupStore interface {
	Backup(ctx context.Context, out string) error
	Restore(ctx context.Context, from string) error
}

// checkpoint copies the ledger's database aside.
func (w *world) checkpoint() error {
	b, ok := w.store.(backupStore)
	if !ok {
		return fmt.Errorf("sim: the store %T cannot back up", w.store)
	}
	w.ckptN++
	path := filepath.Join(w.dir, fmt.Sprintf("checkpoint-%d.db", w.ckptN))
	if err := b.Backup(w.ctx, path); err != nil {
		return err
	}
	if w.ckpt != "" {
		os.Remove(w.ckpt)
	}
	w.ckpt, w.admin, w.loads = path, nil, nil
	w.count("checkpoint")
	return nil
}

// regress puts the last checkpoint back: the ledger loses every commit
// since, and restarts on the copy.
func (w *world) regress() error {
	if w.ckpt == "" {
		return nil
	}
	if err := w.store.(backupStore).Restore(w.ctx, w.ckpt); err != nil {
		return err
	}
	w.svc = w.newService()
	// As offpay ledger restore does: deadlines count from no earlier than
	// now, since the lost commits may have given devices later times.
	if err := w.svc.Restored(w.ctx); err != nil {
		return err
	}
	w.pendingAdmin = append(w.pendingAdmin, w.admin...)
	w.admin = nil
	for _, l := range w.loads {
		if w.lostLoads == nil {
			w.lostLoads = map[int]int64{}
		}
		w.lostLoads[l.dev] += l.amount
	}
	w.loads = nil
	// Uploads applied before are no replays any more (the ledger may not
	// hold them), and settled payments drop until devices upload again.
	w.uploads, w.lastRep = nil, nil
	w.regressed++
	w.count("regress")
	if err := w.reenter(); err != nil {
		return err
	}
	return w.reenterOnline()
}

// reenterOnline gives the ledger back the online payments a regression
// took, as the wallets do after their next sync: each receipt it signed,
// presented again (a payment it holds changes nothing). A receipt whose
// payer spent the money since is refused and counted.
func (w *world) reenterOnline() error {
	for _, o := range w.onlines {
		restored, err := w.svc.PresentOnlineReceipt(w.ctx, o.rc)
		switch {
		case errors.Is(err, context.Canceled):
			return err
		case err != nil:
			w.count("online re-entry: refused " + code(err))
		case restored:
			w.count("online re-entry")
		}
	}
	return nil
}

// record notes a deposit or withdrawal the ledger applied, for re-entry.
func (w *world) record(op adminOp) {
	if w.ckpt != "" {
		w.admin = append(w.admin, op)
	}
}

// lostLoad is a load the ledger signed since the last checkpoint.
type lostLoad struct {
	dev    int
	amount int64
}

// loaded notes a load the ledger signed for device d, which a regression
// may take.
func (w *world) loaded(d int, amount int64) {
	if w.ckpt != "" {
		w.loads = append(w.loads, lostLoad{d, amount})
	}
}

// lostLoadForfeit is the forfeit of honest device d whose SE holds
// balance, if the regressions explain it, else 0: loads a regression took,
// restored from the device's log and debited again as far as the
// account's balance went, its owner having spent the rest from the
// account since (online, a withdrawal, another purse); debt without fraud
// (ledger/README.md "Lost loads"). Explained: the ledger's position of
// the device is short of its SE by exactly its forfeit, and the forfeit
// is at most the loads regressions took from it.
func (w *world) lostLoadForfeit(d int, rep *ledger.DeviceReport, balance int64) int64 {
	if f := rep.Forfeit; f > 0 && f <= w.lostLoads[d] && balance == rep.Position+f {
		return f
	}
	return 0
}

// reenter gives the ledger the deposits and withdrawals a regression took
// (with their refs: each applies once; withdrawals as the bank paid them
// out); those it refuses stay pending.
func (w *world) reenter() error {
	if len(w.pendingAdmin) == 0 {
		return nil
	}
	var left []adminOp
	for _, op := range w.pendingAdmin {
		name := w.people[op.person].spec.Name
		var err error
		if op.withdraw {
			_, err = w.svc.ReenterWithdrawal(w.ctx, name, op.amount, op.ref)
		} else {
			_, err = w.svc.Deposit(w.ctx, name, op.amount, op.ref)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			w.count("re-entry: refused " + code(err))
			left = append(left, op)
			continue
		}
		w.count("re-entry")
		w.record(op)
	}
	w.pendingAdmin = left
	return nil
}

// unentered is what the ledger's issued money lacks while re-entries are
// pending: deposits less withdrawals not re-entered yet.
func (w *world) unentered() int64 {
	var n int64
	for _, op := range w.pendingAdmin {
		if op.withdraw {
			n -= op.amount
		} else {
			n += op.amount
		}
	}
	return n
}

// behindAt returns the ledger's counter if err is its "behind" answer.
func behindAt(err error) (uint64, bool) {
	var b *ledger.BehindError
	if errors.As(err, &b) {
		return b.Acked, true
	}
	return 0, false
}

// evidence shows the ledger device d's last sync result, as the wallet
// does when it finds the ledger behind.
func (w *world) evidence(d int) {
	last := w.devs[d].last
	if last == nil {
		w.count("acknowledgement: none kept")
		return
	}
	ahead, err := w.svc.Acknowledged(w.ctx, last)
	switch {
	case err != nil:
		if w.honest(d) {
			w.violate("honest-refused", "the ledger refused %s's last sync result as evidence: %s (%v)", w.name(d), code(err), err)
		}
		w.count("acknowledgement: refused " + code(err))
	case ahead:
		w.count("acknowledgement: ledger behind")
	default:
		w.count("acknowledgement: ledger not behind")
	}
}

// lastResult keeps res as device d's evidence of what the ledger
// acknowledged (the wallet's last-result file).
func (w *world) lastResult(d int, res *protocol.SyncResult) {
	if l := w.devs[d].last; l == nil || res.Acked >= l.Acked {
		w.devs[d].last = res
	}
}

// regiven is the drain's first act after a regression: each attacker's
// device whose uploads the ledger lost (the ledger acknowledges less of
// its log than its SE or forger knows it did) syncs once more, as its plan
// synced before the loss, so that the ledger settles from it what the
// plan had it settle. An attacker that stays silent instead leaves the
// payments to it pending until its certificate expires or is revoked
// (PendingExpirable), as any silent payee does: ledger/README.md; not a
// hole of recovery.
func (w *world) regiven() error {
	if w.regressed == 0 {
		return nil
	}
	r, err := w.svc.Report(w.ctx)
	if err != nil {
		return err
	}
	held := map[string]uint64{}
	for _, d := range r.Devices {
		held[d.Device] = d.Acked
	}
	for d, dv := range w.devs {
		if w.honest(d) || !w.usable(d) || w.byKey[dv.id] != d {
			continue
		}
		var acked uint64
		switch {
		case dv.f != nil:
			acked = dv.f.acked
		case dv.se != nil:
			st, err := dv.se.Status(uint64(w.now))
			if err != nil {
				return err
			}
			acked = st.Acked
		}
		if acked > held[dv.id.String()] {
			w.count("drain: an attacker's device gives back what the ledger lost")
			if err := w.sync(d); err != nil {
				return err
			}
		}
	}
	return nil
}
