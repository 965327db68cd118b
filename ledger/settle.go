package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// settlement is the working state of one upload inside its transaction.
type settlement struct {
	s      *Service
	tx     Tx
	u      *upload
	devs   map[protocol.KeyID]*DeviceRow // every device touched, as read in tx
	dirty  map[protocol.KeyID]bool
	sweeps map[string]int64         // merchant account -> value swept in
	fresh  []PaymentRow             // payments recorded by this upload (main table)
	fwd    []ForwardRow             // evidence for the providers of foreign payers (forward.go)
	extra  []PaymentRow             // double-spent payments honoured (conflict table)
	own    map[uint64]bool          // own Pay entries a payee already recorded
	debt0  map[protocol.KeyID]int64 // proven debt of each device before
	late   []int                    // indexes in fresh of payments to expire unless claimed later in the upload
	lost   []*upEntry               // load entries whose loads the ledger issued and lost (recovery.go)
	rcpts  []*upEntry               // confirm entries whose receipts verified, for the evidence check
	now    int64
	// restored is the ledger time of the last restore, read once when a
	// deadline is first needed (exposure.go, recovery.go).
	restored     uint64
	restoredRead bool
	claimState
	refundState
}

// apply settles u in tx. It first reads and decides (chain against the
// stored log, resends, conflicts), then writes. If the uploader itself is
// proven to have equivocated, only the proof and the revocation are
// written and fraud says so.
func (s *Service) apply(ctx context.Context, tx Tx, u *upload) (*protocol.SyncResult, error, error) {
	st := &settlement{s: s, tx: tx, u: u, dirty: map[protocol.KeyID]bool{}, sweeps: map[string]int64{}, own: map[uint64]bool{}, now: s.now().UnixNano()}
	st.claimState = newClaimState(s.now().Unix())
	var err error
	if st.devs, err = tx.Devices(ctx, u.deviceIDs()); err != nil {
		return nil, nil, err
	}
	st.debt0 = make(map[protocol.KeyID]int64, len(st.devs))
	for id, d := range st.devs {
		st.debt0[id] = debt(d)
	}
	d := st.devs[u.id]
	// A revoked device's log is still settled: it is evidence (more
	// proofs, payments its payees have not uploaded) and it explains
	// deficits (receipts the ledger had not seen, so a recovery taken at
	// an assessment deadline is refunded). It gets no result, only the
	// revoked error: nothing it can do with one.
	wasRevoked := d.Revoked
	if !wasRevoked {
		// The result this upload gets carries the ledger's time: the
		// device's offline life (and so its deadline) counts from it.
		d.LastSeen = max(d.LastSeen, uint64(st.nowSec))
		st.dirty[d.ID] = true
	}
	news, proof, err := st.checkOwn(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	if proof != nil {
		if err := st.fraud(ctx, proof); err != nil {
			return nil, nil, err
		}
		return nil, &offpay.Error{Code: offpay.EFORBIDDEN, Err: protocol.ErrRevoked,
			Message: fmt.Sprintf("device %v equivocated at counter %d: revoked", d.ID, proof.Counter)}, nil
	}
	if err := st.record(ctx, news); err != nil {
		return nil, nil, err
	}
	if err := st.finish(ctx, d, news); err != nil {
		return nil, nil, err
	}
	if wasRevoked || d.Revoked {
		return nil, revoked(d.ID), nil
	}
	res, err := st.result(ctx, d)
	return res, nil, err
}

// checkOwn compares the upload with the device's stored log and with
// payments others have shown for its counters. It returns the entries not
// yet recorded, or a proof of equivocation by the uploader.
func (st *settlement) checkOwn(ctx context.Context, d *DeviceRow) ([]upEntry, *ProofRow, error) {
	es := st.u.entries
	if len(es) == 0 {
		return nil, nil, nil
	}
	first, last := es[0].e.Counter, es[len(es)-1].e.Counter
	if first <= d.Acked {
		stored, err := st.tx.Entries(ctx, d.ID, first, min(last, d.Acked))
		if err != nil {
			return nil, nil, err
		}
		for _, row := range stored {
			ue := &es[row.Counter-first]
			if row.Hash != ue.hash {
				return nil, &ProofRow{Device: d.ID, Counter: row.Counter, EntryA: row.Data, EntryB: ue.data, FoundAt: st.now}, nil
			}
		}
		if uint64(len(stored)) != min(last, d.Acked)-first+1 {
			return nil, nil, offpay.Errorf(offpay.EINTERNAL, "stored log of %v has holes", d.ID)
		}
	}
	if last <= d.Acked {
		return nil, nil, nil
	}
	news := es[max(d.Acked+1, first)-first:]
	if news[0].e.Counter != d.Acked+1 {
		return nil, nil, behind(d, first)
	}
	if news[0].e.Prev != d.LastHash && d.Acked > 0 {
		return nil, nil, invalid("entry %d does not chain to the recorded log", news[0].e.Counter)
	}
	known, err := st.tx.PaymentsOf(ctx, d.ID, news[0].e.Counter, last)
	if err != nil {
		return nil, nil, err
	}
	for i := range known {
		p := &known[i]
		ue := &news[p.Counter-news[0].e.Counter]
		if ue.e.Kind == protocol.EntryPay && ue.pid == p.ID {
			st.own[p.Counter] = true // a payee uploaded it first: already recorded
			continue
		}
		src, err := st.entry(ctx, p.SrcDevice, p.SrcCounter)
		if err != nil {
			return nil, nil, err
		}
		return nil, &ProofRow{Device: d.ID, Counter: p.Counter, EntryA: src, EntryB: ue.data, FoundAt: st.now}, nil
	}
	if proof, err := st.checkReceipts(ctx, d, news); err != nil || proof != nil {
		return nil, proof, err
	}
	if err := st.checkLoads(ctx, d, news); err != nil {
		return nil, nil, err
	}
	return news, nil, nil
}

// record records the payments, loads and redeems of the new entries, and
// applies claims (receive and confirm entries) and expiries (sync entries)
// in log order.
func (st *settlement) record(ctx context.Context, news []upEntry) error {
	var keys []PayKey
	for i := range news {
		if ue := &news[i]; ue.e.Kind == protocol.EntryReceive && !ue.rejected {
			keys = append(keys, PayKey{ue.pay.Payer, ue.pay.Counter})
		}
	}
	known, err := st.tx.Payments(ctx, keys)
	if err != nil {
		return err
	}
	inUpload := map[PayKey]protocol.Hash{}
	for i := range news {
		ue := &news[i]
		switch {
		case ue.e.Kind == protocol.EntryPay && !ue.rejected && !st.own[ue.e.Counter]:
			if err := st.add(ue); err != nil {
				return err
			}
			if err := st.refund(ctx, ue, &st.fresh[st.freshIdx[ue.pid]]); err != nil {
				return err
			}
		case ue.e.Kind == protocol.EntryReceive && !ue.rejected:
			k := PayKey{ue.pay.Payer, ue.pay.Counter}
			if pid, ok := inUpload[k]; ok {
				if pid == ue.pid {
					continue // the same payment twice: recorded once
				}
				// Two payments with one payer counter in this payee's log:
				// two copies of a cloned payer paid it, and its SE had
				// forgotten the first. A double spend by the payer, proven
				// and honoured like one across uploads; the payee's log is
				// not refused for it.
				first := known[k]
				if i, ok := st.freshIdx[pid]; ok && first == nil {
					first = &st.fresh[i]
				}
				if first == nil {
					return offpay.Errorf(offpay.EINTERNAL, "entry %d: first payment of counter %d not recorded", ue.e.Counter, k.Counter)
				}
				if err := st.receive(ctx, ue, first); err != nil {
					return err
				}
				continue
			}
			inUpload[k] = ue.pid
			if err := st.receive(ctx, ue, known[k]); err != nil {
				return err
			}
		case ue.receipt != nil && !ue.rejected:
			if err := st.confirm(ctx, ue.receipt); err != nil {
				return err
			}
			st.rcpts = append(st.rcpts, ue)
		case ue.applied != nil:
			if err := st.synced(ctx, ue.applied.Time); err != nil {
				return err
			}
		}
	}
	// A payment recorded here whose payee's log already showed a ledger
	// time past its claim window expires, unless a receipt later in this
	// upload claimed it: a payment with a valid receipt is never expired.
	for _, i := range st.late {
		if p := &st.fresh[i]; p.Status == protocol.StatusPending {
			if err := st.expire(p); err != nil {
				return err
			}
			st.status[p.ID] = p.Status
		}
	}
	if err := st.receipts(ctx); err != nil {
		return err
	}
	if err := st.tx.InsertPayments(ctx, st.fresh); err != nil {
		return err
	}
	if len(st.fwd) > 0 {
		if err := st.tx.InsertForwards(ctx, st.fwd); err != nil {
			return err
		}
	}
	return st.tx.ResolvePayments(ctx, st.claims)
}

// receive handles a payment shown by its payee.
func (st *settlement) receive(ctx context.Context, ue *upEntry, known *PaymentRow) error {
	payer := st.devs[ue.pay.Payer]
	if foreign(payer) {
		// Only the payer's provider can judge it: forward the evidence.
		if err := st.forward(ue, payer); err != nil {
			return err
		}
	}
	if !plausible(payer, ue.pay.Counter) && !payer.Revoked && !foreign(payer) {
		// No honest SE reaches this counter before it syncs again: the
		// payer's SE is broken (its key taken out). The payee accepted it
		// offline and is honoured; the counter moves nothing (debit).
		if err := st.s.revoke(ctx, st.tx, payer, reasonImplausible(ue.pay.Counter, payer.Acked), true); err != nil {
			return err
		}
	}
	switch {
	case known != nil && known.ID == ue.pid:
		// The payer (or this payee before) recorded it: the payee's
		// receive entry claims it if it still awaits its claim. An expired
		// one stays expired: its value went back to the payer's account.
		if known.Status == protocol.StatusPending && !st.expired[known.Key()] {
			if err := st.claim(known); err != nil {
				return err
			}
		}
		st.status[ue.pid] = known.Status
		if st.expired[known.Key()] {
			st.status[ue.pid] = protocol.StatusExpired
		}
		if st.status[ue.pid] == protocol.StatusExpired {
			// Its SE holds value the ledger already returned to the
			// payer: the position will show it as a deficit, which its
			// own log explains (exposure.go), so it is debt, not fraud.
			payee := st.devs[st.u.id]
			var err error
			if payee.Forfeit, err = offpay.AddMinor(payee.Forfeit, known.Amount); err != nil {
				return err
			}
			st.dirty[payee.ID] = true
		}
		return nil
	case known != nil:
		// Two payments with one payer counter: a double spend. Honour
		// this one too (the payee accepted it offline) and prove it; a
		// foreign payer's provider proves it from the forwarded evidence.
		if !foreign(payer) {
			src, err := st.entry(ctx, known.SrcDevice, known.SrcCounter)
			if err != nil {
				return err
			}
			if err := st.fraud(ctx, &ProofRow{Device: payer.ID, Counter: known.Counter, EntryA: src, EntryB: ue.data, FoundAt: st.now}); err != nil {
				return err
			}
		}
		row := st.row(ue)
		isNew, err := st.tx.InsertConflict(ctx, &row)
		if err != nil || !isNew {
			return err
		}
		st.extra = append(st.extra, row)
		st.status[ue.pid] = row.Status
		if err := st.debit(row); err != nil {
			return err
		}
		if err := st.credit(row); err != nil {
			return err
		}
		return st.refund(ctx, ue, &st.extra[len(st.extra)-1])
	case payer.Acked >= ue.pay.Counter:
		// The payer's own log holds something else at this counter.
		src, err := st.entry(ctx, payer.ID, ue.pay.Counter)
		if err != nil {
			return err
		}
		if err := st.fraud(ctx, &ProofRow{Device: payer.ID, Counter: ue.pay.Counter, EntryA: src, EntryB: ue.data, FoundAt: st.now}); err != nil {
			return err
		}
	}
	if err := st.add(ue); err != nil {
		return err
	}
	return st.refund(ctx, ue, &st.fresh[st.freshIdx[ue.pid]])
}

// row is the payment of ue as first recorded: settled when its payee
// showed it, otherwise pending (awaiting the payee's claim, or its
// enrolment if it is unknown).
func (st *settlement) row(ue *upEntry) PaymentRow {
	p := ue.pay
	status := protocol.StatusSettled
	if ue.e.Kind == protocol.EntryPay || st.devs[p.Payee] == nil {
		status = protocol.StatusPending
	}
	return PaymentRow{Payer: p.Payer, Counter: p.Counter, ID: ue.pid, Payee: p.Payee, Amount: int64(p.Amount),
		Status: status, SrcDevice: st.u.id, SrcCounter: ue.e.Counter, CreatedAt: st.now, Time: p.Time, Sale: p.Sale}
}

// add records a new payment in the main table (written by record): the
// payer is debited at once, the payee credited only when the payment is
// settled (now, or at its claim).
func (st *settlement) add(ue *upEntry) error {
	row := st.row(ue)
	if err := st.debit(row); err != nil {
		return err
	}
	if row.Status == protocol.StatusSettled {
		if err := st.credit(row); err != nil {
			return err
		}
	} else if payee := st.devs[row.Payee]; payee != nil && payee.SyncTime >= claimDeadline(row.Time) {
		// The payee's log already shows a ledger time past the claim
		// window, and did not receive it before: it never will, unless a
		// receipt in this upload says otherwise (record decides).
		st.late = append(st.late, len(st.fresh))
	}
	st.status[row.ID] = row.Status
	st.freshIdx[row.ID] = len(st.fresh)
	st.fresh = append(st.fresh, row)
	return nil
}

// debit moves a payment's value out of its payer's position in memory.
func (st *settlement) debit(r PaymentRow) (err error) {
	if payer := st.devs[r.Payer]; payer != nil {
		if payer.Sent, err = offpay.AddMinor(payer.Sent, r.Amount); err != nil {
			return err
		}
		if plausible(payer, r.Counter) {
			payer.MaxSent = max(payer.MaxSent, r.Counter)
		}
		st.dirty[r.Payer] = true
	}
	return nil
}

// credit moves a settled payment's value into its payee's position in
// memory, and sweeps it into the account of a merchant payee.
func (st *settlement) credit(r PaymentRow) (err error) {
	if payee := st.devs[r.Payee]; payee != nil {
		if payee.Received, err = offpay.AddMinor(payee.Received, r.Amount); err != nil {
			return err
		}
		if payee.Merchant {
			payee.Swept += r.Amount // Swept <= Received, so no overflow
			if st.sweeps[payee.Account], err = offpay.AddMinor(st.sweeps[payee.Account], r.Amount); err != nil {
				return err
			}
			if err := st.openSale(r, payee); err != nil {
				return err
			}
		}
		st.dirty[r.Payee] = true
	}
	return nil
}
