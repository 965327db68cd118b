package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Claims and expiry (README.md "Claims"). A payment recorded from its
// payer's log alone awaits its payee's claim: the payer is debited, the
// payee not credited. The payee's receive entry, or a confirm entry in the
// payer's log carrying a receipt the payee signed, claims it (credits the
// payee, once). A sync entry in the payee's log showing a ledger time at or
// past the payment's claim deadline expires it instead: the value goes back
// to the payer's account. Whichever the ledger records first wins; both
// run inside the one settlement transaction, so upload order and
// concurrency cannot make a payment both claimed and refunded.
//
// The ledger trusts the time of a sync entry because the SE signed it. An
// SE that lies about it hurts only its own account: it can expire payments
// to itself early (the payers get their money back, the lying payee's
// purse then holds value its position lacks, and what it pays on from it
// shows up as overspend against its owner).

// claimState is what one settlement decided about claims and expiries.
type claimState struct {
	nowSec    int64
	status    map[protocol.Hash]uint8       // final status of payments named by the upload
	freshIdx  map[protocol.Hash]int         // index in fresh of payments recorded by this upload
	claims    []PaymentRow                  // main-table payments this upload claimed
	expired   map[PayKey]bool               // payments this upload expired
	expList   []PaymentRow                  // the same, in order (for refund lines and notes)
	pendOf    map[protocol.Hash]*PaymentRow // the uploader's pending payments, read at its first confirm entry
	expiredTo uint64                        // highest sync time this upload applied
	expReason string                        // of payment_expired: ExpiredClaimWindow or ExpiredNoPayee
}

func newClaimState(now int64) claimState {
	return claimState{nowSec: now, status: map[protocol.Hash]uint8{}, freshIdx: map[protocol.Hash]int{}, expired: map[PayKey]bool{},
		expReason: ExpiredClaimWindow}
}

// claimDeadline is the first ledger time at which a payment of time t is
// no longer claimable.
func claimDeadline(t uint64) uint64 {
	if t > ^uint64(0)-protocol.ClaimWindow {
		return ^uint64(0)
	}
	return t + protocol.ClaimWindow
}

// claim settles a pending main-table payment read from the store.
func (st *settlement) claim(p *PaymentRow) error {
	p.Status, p.Resolved = protocol.StatusSettled, st.nowSec
	st.claims = append(st.claims, *p)
	return st.credit(*p)
}

// confirm applies a verified receipt from the payer's log: it claims the
// payer's pending payment it names, if the receipt's signer is its payee.
func (st *settlement) confirm(ctx context.Context, r *protocol.Receipt) error {
	if i, ok := st.freshIdx[r.Payment]; ok {
		p := &st.fresh[i]
		if p.Payee == r.Payee && p.Status == protocol.StatusPending {
			p.Status, p.Resolved = protocol.StatusSettled, st.nowSec
			st.status[p.ID] = p.Status
			return st.credit(*p)
		}
		return nil
	}
	if err := st.readOwnPending(ctx); err != nil {
		return err
	}
	p := st.pendOf[r.Payment]
	if p == nil || p.Payee != r.Payee || p.Status != protocol.StatusPending {
		return nil
	}
	return st.claim(p)
}

// readOwnPending reads the uploader's pending payments into pendOf, once.
func (st *settlement) readOwnPending(ctx context.Context) error {
	if st.pendOf != nil {
		return nil
	}
	ps, err := st.tx.PendingOf(ctx, st.u.id, ^uint64(0)>>1)
	if err != nil {
		return err
	}
	st.pendOf = make(map[protocol.Hash]*PaymentRow, len(ps))
	for i := range ps {
		st.pendOf[ps[i].ID] = &ps[i]
	}
	return nil
}

// synced applies a sync entry of the uploader showing ledger time t: every
// payment to it still awaiting claim whose deadline t reaches expires.
func (st *settlement) synced(ctx context.Context, t uint64) error {
	d := st.devs[st.u.id]
	if t <= max(st.expiredTo, d.SyncTime) {
		// An earlier sync entry reached as far; payments recorded since
		// then were checked against it when recorded (add).
		return nil
	}
	st.expiredTo, d.SyncTime = t, t
	st.dirty[d.ID] = true
	if err := st.closeSales(ctx, d, t); err != nil {
		return err
	}
	ps, err := st.tx.PendingTo(ctx, d.ID)
	if err != nil {
		return err
	}
	var due []*PaymentRow
	var payers []protocol.KeyID
	for i := range ps {
		p := &ps[i]
		if claimDeadline(p.Time) > t || st.expired[p.Key()] || st.claimed(p) {
			continue
		}
		due = append(due, p)
		if st.devs[p.Payer] == nil {
			payers = append(payers, p.Payer)
		}
	}
	if len(payers) > 0 {
		m, err := st.tx.Devices(ctx, payers)
		if err != nil {
			return err
		}
		for id, row := range m {
			st.devs[id], st.debt0[id] = row, debt(row)
		}
	}
	for _, p := range due {
		if err := st.expire(p); err != nil {
			return err
		}
		if err := st.tx.SetPaymentStatus(ctx, p.Key(), p.ID, p.Status, p.Resolved); err != nil {
			return err
		}
	}
	return nil
}

func (st *settlement) claimed(p *PaymentRow) bool {
	for i := range st.claims {
		if st.claims[i].Key() == p.Key() && st.claims[i].ID == p.ID {
			return true
		}
	}
	return false
}

// expire marks p expired (the caller stores it) and queues the refund of
// its value to its payer's account.
func (st *settlement) expire(p *PaymentRow) error {
	payer := st.devs[p.Payer]
	if payer == nil {
		return offpay.Errorf(offpay.EINTERNAL, "payer %v of an expiring payment is missing", p.Payer)
	}
	p.Status, p.Resolved = protocol.StatusExpired, st.nowSec
	st.expired[p.Key()] = true
	st.expList = append(st.expList, *p)
	return nil
}

// refunds posts the refund line of every expired payment to its payer's
// account (found in accts) and queues the payment_expired notes.
func (st *settlement) refunds(ctx context.Context, tx Tx, accts map[string]*AccountRow) error {
	lines := map[protocol.Hash]LineRef{}
	for _, p := range st.expList {
		payer := st.devs[p.Payer]
		a := accts[payer.Account]
		if a == nil {
			return offpay.Errorf(offpay.EINTERNAL, "account %q of a device is missing", payer.Account)
		}
		ref := fmt.Sprintf("expired:%v:%d", p.Payer, p.Counter)
		if err := st.s.postFor(ctx, tx, a, LineExpired, p.Amount, ref, []string{p.ID.String()}); err != nil {
			return err
		}
		lines[p.ID] = LineRef{a.Name, a.LineSeq}
	}
	return st.s.notifyPayments(ctx, tx, NotePaymentExpired, st.expReason, st.expList, st.devs, lines, nil)
}

// refundAccounts lists the payer accounts refunds will touch.
func (st *settlement) refundAccounts(into map[string]bool) {
	for _, p := range st.expList {
		into[st.devs[p.Payer].Account] = true
	}
}

// statusSlack is how far before the device's last applied sync time
// ownStatuses still reports resolutions: a resolution committed by another
// process just after that result was built may carry a slightly earlier
// time. Reporting one twice is harmless.
const statusSlack = 600

// ownStatuses adds to res the status of every payment of d still pending,
// and of every one resolved (claimed or expired) since the last sync
// result d's log shows it applied: the payer SE keeps a payment pending
// until a result names it settled, rejected or expired. A status already
// in res for such a payment is replaced by the stored one.
func (st *settlement) ownStatuses(ctx context.Context, d *DeviceRow, res *protocol.SyncResult, seen map[protocol.Hash]bool) error {
	below, top := ^uint64(0), uint64(0)
	for i := range st.fresh {
		if p := &st.fresh[i]; p.Payer == d.ID {
			below = min(below, p.Counter) // this upload's own payments are in res already
			top = max(top, p.Counter)
		}
	}
	pend, err := st.tx.PendingOf(ctx, d.ID, below)
	if err != nil {
		return err
	}
	since := max(int64(d.SyncTime)-statusSlack, 0)
	// The payments this upload recorded (counters below..top) are in res
	// with their final status: not read back. The only other stored
	// payments of d in that range are those a payee recorded first, whose
	// pay entries are in this upload (checkOwn: any other would have been
	// a proof); they are read by key.
	done, err := st.tx.ResolvedOf(ctx, d.ID, since, below, top)
	if err != nil {
		return err
	}
	var keys []PayKey
	for _, ue := range st.u.entries {
		if c := ue.e.Counter; ue.e.Kind == protocol.EntryPay && st.own[c] && c >= below && c <= top {
			keys = append(keys, PayKey{d.ID, c})
		}
	}
	if len(keys) > 0 {
		m, err := st.tx.Payments(ctx, keys)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if p := m[k]; p != nil && p.Resolved > 0 && p.Resolved >= since {
				done = append(done, *p)
			}
		}
	}
	if len(pend)+len(done) == 0 {
		return nil
	}
	at := make(map[protocol.Hash]int, len(res.Statuses))
	for i, ps := range res.Statuses {
		at[ps.Payment] = i
	}
	for _, rows := range [][]PaymentRow{pend, done} {
		for _, p := range rows {
			if i, ok := at[p.ID]; ok {
				if res.Statuses[i].Status != protocol.StatusRejected {
					res.Statuses[i].Status = p.Status
				}
				continue
			}
			if seen[p.ID] || len(res.Statuses) >= protocol.MaxSyncStatuses {
				continue
			}
			at[p.ID] = len(res.Statuses)
			res.Statuses = append(res.Statuses, protocol.PaymentStatus{Payment: p.ID, Status: p.Status})
		}
	}
	return nil
}
