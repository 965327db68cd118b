package ledger

import (
	"context"
	"fmt"
	"slices"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// noteChunk is how many payments one payment_settled notification carries:
// a big upload becomes a few notifications, not one row per payment.
const noteChunk = 500

// finish advances the uploader's log, applies redeems, stores the new
// entries, saves every touched device and account, settles overspend cover
// and queues the notifications.
func (st *settlement) finish(ctx context.Context, d *DeviceRow, news []upEntry) error {
	tx := st.tx
	redeems := map[string][]upEntry{}
	if len(news) > 0 {
		rows := make([]EntryRow, len(news))
		for i := range news {
			ue := &news[i]
			rows[i] = EntryRow{Device: d.ID, Counter: ue.e.Counter, Hash: ue.hash, Kind: uint8(ue.e.Kind), Data: ue.data}
			switch {
			case ue.load != nil:
				d.LoadsIn = max(d.LoadsIn, ue.load.Seq)
			case ue.redeem != nil:
				var err error
				if d.Redeemed, err = offpay.AddMinor(d.Redeemed, int64(ue.redeem.Amount)); err != nil {
					return err
				}
				redeems[d.Account] = append(redeems[d.Account], *ue)
			}
		}
		if last := &news[len(news)-1]; !foreign(d) { // a mirror's log is not followed here (forward.go)
			d.Acked, d.LastHash = last.e.Counter, last.hash
		}
		st.dirty[d.ID] = true
		if err := tx.InsertEntries(ctx, rows); err != nil {
			return err
		}
	}
	// Loads the ledger issued and lost come back first: their value is in
	// the device's position before exposure is judged (recovery.go).
	debits, err := st.restoreLoads(ctx, d)
	if err != nil {
		return err
	}
	if amount := debits[d.Account]; amount > 0 {
		a, err := mustAccount(ctx, tx, d.Account)
		if err != nil {
			return err
		}
		// The device's redeems in this upload come after its loads: they
		// are credited first, so that a restored load is debited in full
		// whenever the account could pay for it in the device's order.
		for _, ue := range redeems[d.Account] {
			ref := fmt.Sprintf("redeem:%v:%d", d.ID, ue.e.Counter)
			if err := st.s.post(ctx, tx, a, LineRedeem, int64(ue.redeem.Amount), ref); err != nil {
				return err
			}
		}
		delete(redeems, d.Account)
		if err := st.debitRestored(ctx, tx, a, d, amount); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
	}
	// What the merchant accounts can pay of the refunds funded here is
	// settled before exposure is judged (refunds.go).
	if err := st.fundRefunds(ctx); err != nil {
		return err
	}
	if err := st.exposure(ctx); err != nil {
		return err
	}
	ids := make([]protocol.KeyID, 0, len(st.dirty))
	for id := range st.dirty {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b protocol.KeyID) int { return compareIDs(a, b) }) // stable lock order
	rows := make([]*DeviceRow, len(ids))
	// An account's cover can change only if a device's proven debt
	// changed, or if it carries a loss and gains money; most payers'
	// accounts are then never touched.
	need := map[string]bool{}
	accounts := map[string]bool{}
	for i, id := range ids {
		dev := st.devs[id]
		rows[i] = dev
		if debt(dev) != st.debt0[id] {
			need[dev.Account], accounts[dev.Account] = true, true
		}
	}
	if err := tx.UpdateDevices(ctx, rows); err != nil {
		return err
	}
	for name := range st.sweeps {
		accounts[name] = true
	}
	for name := range redeems {
		accounts[name] = true
	}
	for _, r := range st.draws {
		accounts[r.Account] = true
	}
	st.refundAccounts(accounts)
	names := make([]string, 0, len(accounts))
	for n := range accounts {
		names = append(names, n)
	}
	slices.Sort(names)
	accts, err := tx.AccountsNamed(ctx, names)
	if err != nil {
		return err
	}
	// payment_settled reports payments when they settle: recorded settled
	// (the payee showed them), or claimed later. One awaiting its claim is
	// reported when claimed, or as payment_expired.
	var settled []PaymentRow
	for _, rows := range [][]PaymentRow{st.fresh, st.extra, st.claims} {
		for _, p := range rows {
			if p.Status == protocol.StatusSettled {
				settled = append(settled, p)
			}
		}
	}
	swept, lines := sweptTo(settled, st.devs), map[protocol.Hash]LineRef{}
	// Statement lines and notifications go out in one statement each,
	// for the whole batch of uploads (batchTx).
	bt := tx
	// Refunds first: cover may then recover a loss from them.
	if err := st.refunds(ctx, bt, accts); err != nil {
		return err
	}
	for _, name := range names {
		a := accts[name]
		if a == nil {
			return offpay.Errorf(offpay.EINTERNAL, "account %q of a device is missing", name)
		}
		if sum := st.sweeps[name]; sum > 0 {
			ref := fmt.Sprintf("sync:%v:%d", d.ID, d.Acked)
			if err := st.s.postSweep(ctx, bt, a, sum, swept[name], ref, lines); err != nil {
				return err
			}
		}
		for _, ue := range redeems[name] {
			ref := fmt.Sprintf("redeem:%v:%d", d.ID, ue.e.Counter)
			if err := st.s.post(ctx, bt, a, LineRedeem, int64(ue.redeem.Amount), ref); err != nil {
				return err
			}
		}
		// After the sweeps that may have brought the sales in.
		if err := st.postRefunds(ctx, bt, a, lines); err != nil {
			return err
		}
		if need[name] || a.Lost > 0 {
			if err := st.s.cover(ctx, bt, a); err != nil {
				return err
			}
		}
	}
	for _, name := range names {
		if err := tx.UpdateAccount(ctx, accts[name]); err != nil {
			return err
		}
	}
	if err := st.storeRefunds(ctx); err != nil {
		return err
	}
	refunded, err := st.refundLines(ctx, settled, lines)
	if err != nil {
		return err
	}
	return st.s.notifyPayments(ctx, bt, NotePaymentSettled, "", settled, st.devs, lines, refunded)
}

func compareIDs(a, b protocol.KeyID) int { return slices.Compare(a[:], b[:]) }

func statusName(s uint8) string {
	switch s {
	case protocol.StatusPending:
		return "pending"
	case protocol.StatusSettled:
		return "settled"
	case protocol.StatusRejected:
		return "rejected"
	case protocol.StatusExpired:
		return "expired"
	}
	return "unknown"
}

// result builds the signed answer: what is acknowledged, the status of
// every payment the upload named, the counters the ledger knows exist but
// has not seen, the loads not yet applied, a fresh revocation list, and a
// renewed certificate when one is due or not yet delivered (renew.go).
func (st *settlement) result(ctx context.Context, d *DeviceRow) (*protocol.SyncResult, error) {
	s := st.s
	res := &protocol.SyncResult{Version: protocol.Version, Device: d.ID, Acked: d.Acked, Time: uint64(s.now().Unix()),
		Signer: s.keys.Issuer.ID(), Statuses: []protocol.PaymentStatus{}, Missing: []uint64{}, Loads: []protocol.Load{}}
	seen := map[protocol.Hash]bool{}
	for _, ue := range st.u.entries {
		if ue.pay == nil || seen[ue.pid] || len(res.Statuses) >= protocol.MaxSyncStatuses {
			continue
		}
		seen[ue.pid] = true
		status, ok := st.status[ue.pid]
		switch {
		case ue.rejected:
			status = protocol.StatusRejected
		case !ok:
			// Recorded by an earlier upload (a resend): settled, unless
			// ownStatuses finds it still pending or lately resolved.
			status = protocol.StatusSettled
		}
		res.Statuses = append(res.Statuses, protocol.PaymentStatus{Payment: ue.pid, Status: status})
	}
	if err := st.ownStatuses(ctx, d, res, seen); err != nil {
		return nil, err
	}
	res.Swept = uint64(d.Swept)
	for c := d.Acked + 1; c <= d.MaxSent && len(res.Missing) < protocol.MaxSyncEntries; c++ {
		res.Missing = append(res.Missing, c)
	}
	// No load is stored above LoadSeq (ledgertest.LoadsWithinSeq, checked
	// by storetest and the simulator): a device whose log applied the last
	// one issued has none to be given, and the read is skipped.
	var loads []LoadRow
	if d.LoadsIn < d.LoadSeq {
		var err error
		if loads, err = st.tx.LoadsAfter(ctx, d.ID, d.LoadsIn, protocol.MaxSyncLoads); err != nil {
			return nil, err
		}
	}
	for _, l := range loads {
		var load protocol.Load
		if err := protocol.Unmarshal(l.Data, &load); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "stored load: %w", err)
		}
		res.Loads = append(res.Loads, load)
	}
	rl, err := s.revList(ctx, st.tx, nil)
	if err != nil {
		return nil, err
	}
	res.RevList = *rl
	cert, _, err := s.renew(ctx, st.tx, d)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		res.Cert = []protocol.Certificate{*cert}
	}
	// Signed by Sync after the batch commits, outside the serial section.
	return res, nil
}
