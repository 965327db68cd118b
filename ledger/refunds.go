package ledger

import (
	"context"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Refunds (README.md "Refunds", SPEC.md 7.5.1 and 11). A refund is a
// payment from a merchant's device M back to the payer of one of its
// sales S, naming S; it is recorded, claimed and expired like any payment.
// What is its own happens when it is first recorded: the merchant account
// funds it (a sale_refund line; M's position gets it back as Drawn), if S
// is M's sale, refundable (open: its hold), to the refund's payee, worth
// at least the refund, and this is the first refund of S. Otherwise it is
// honoured unfunded, and the exposure rules judge M's deficit; where the
// refund and its sale, or two refunds of one sale, prove that M's SE
// signed what no honest SE signs, the ledger stores the proof.

// refundState is what one settlement decided about refunds and the sales
// held for them.
type refundState struct {
	opened   map[protocol.Hash]*OpenSaleRow // sales this settlement made refundable, stored in finish
	closed   []OpenSaleRow                  // stored open sales it closed (refunded)
	first    map[protocol.Hash]*RefundRow   // first refund of each sale it recorded, by sale
	order    []protocol.Hash                // ... in order
	draws    []*RefundRow                   // funded refunds, posted in finish
	pendingM map[protocol.KeyID][]PaymentRow
	// tillSales holds the stored refundable sales of merchant devices
	// read in this settlement (tillSale): ID to payer.
	tillSales map[protocol.KeyID]map[protocol.Hash]protocol.KeyID
	days      map[protocol.KeyID]uint64 // merchant devices' longest max_offline_days (a certificate decoded once)
}

// openSale makes a payment just credited to a merchant's device m
// refundable: its account is held for it until the device's log shows a
// sync past its refund window, it is refunded, or the device has stopped
// paying (Stale: released, no longer held, still refundable as far as
// the account goes).
func (st *settlement) openSale(r PaymentRow, m *DeviceRow) error {
	if r.Sale != (protocol.Hash{}) {
		return nil // a refund is no sale
	}
	closes := satAdd(r.Time, protocol.RefundWindow)
	if m.SyncTime >= closes {
		return nil // its SE already refuses to refund it
	}
	days, ok := st.days[m.ID]
	if !ok {
		c, err := currentCert(m)
		if err != nil {
			return err
		}
		days = min(max(c.Limits.MaxOfflineDays, m.MaxDays), 1<<32)
		if st.days == nil {
			st.days = map[protocol.KeyID]uint64{}
		}
		st.days[m.ID] = days
	}
	if st.opened == nil {
		st.opened = map[protocol.Hash]*OpenSaleRow{}
	}
	// The payer's clock dates the sale, and the till's SE refunds it until
	// its synced ledger time reaches Closes: a customer whose clock runs
	// ten years ahead would have the shop's account held for a decade.
	// The hold counts from the ledger's own time when the sale is dated
	// later than that (a sale's date is never after the ledger learns of
	// it): released then, a refund the till still signs is funded as far
	// as the account goes, as for any released sale.
	anchor := min(r.Time, uint64(max(st.nowSec, 0)))
	st.opened[r.ID] = &OpenSaleRow{PID: r.ID, Payer: r.Payer, Counter: r.Counter, Device: m.ID, Account: m.Account, Amount: r.Amount,
		Closes: closes, Stale: satAdd(satAdd(anchor, protocol.RefundWindow), days*24*3600), SrcDevice: r.SrcDevice, SrcCounter: r.SrcCounter}
	return nil
}

// satAdd is a + b, or the largest uint64 when that overflows.
func satAdd(a, b uint64) uint64 {
	if a > ^uint64(0)-b {
		return ^uint64(0)
	}
	return a + b
}

// closeSales applies a sync entry of merchant device d showing ledger time
// t: its SE refuses to refund sales whose window t reached, and every
// refund it signed before is in this log, so recorded.
func (st *settlement) closeSales(ctx context.Context, d *DeviceRow, t uint64) error {
	if !d.Merchant {
		return nil
	}
	for pid, o := range st.opened {
		if o.Device == d.ID && o.Closes <= t {
			delete(st.opened, pid)
		}
	}
	return st.tx.CloseSales(ctx, d.ID, t)
}

// openRow returns the sale pid if it is refundable and this settlement
// opened it, or it is stored and payer paid it; else nil.
func (st *settlement) openRow(ctx context.Context, pid protocol.Hash, payer protocol.KeyID) (*OpenSaleRow, error) {
	if o := st.opened[pid]; o != nil {
		return o, nil
	}
	if st.isClosed(pid) {
		return nil, nil
	}
	return st.tx.OpenSaleOf(ctx, payer, pid)
}

// tillSale returns m's stored refundable sale pid, or nil: the sale of a
// refund whose payee did not pay it (a proof), or that names none. The
// IDs of m's sales are read once a settlement (a till's refunds naming no
// sale of their payees' cost one read of its sales, not one each).
func (st *settlement) tillSale(ctx context.Context, m protocol.KeyID, pid protocol.Hash) (*OpenSaleRow, error) {
	if st.isClosed(pid) {
		return nil, nil
	}
	ids, ok := st.tillSales[m]
	if !ok {
		var err error
		if ids, err = st.tx.OpenSalePayers(ctx, m); err != nil {
			return nil, err
		}
		if st.tillSales == nil {
			st.tillSales = map[protocol.KeyID]map[protocol.Hash]protocol.KeyID{}
		}
		st.tillSales[m] = ids
	}
	payer, ok := ids[pid]
	if !ok {
		return nil, nil
	}
	return st.tx.OpenSaleOf(ctx, payer, pid)
}

// isClosed reports whether this settlement refunded stored sale pid.
func (st *settlement) isClosed(pid protocol.Hash) bool {
	for i := range st.closed {
		if st.closed[i].PID == pid {
			return true
		}
	}
	return false
}

// firstRefund returns the first refund of sale the ledger recorded, or nil.
func (st *settlement) firstRefund(ctx context.Context, sale protocol.Hash) (*RefundRow, error) {
	if r := st.first[sale]; r != nil {
		return r, nil
	}
	m, err := st.tx.SaleRefunds(ctx, []protocol.Hash{sale})
	return m[sale], err
}

// refund applies the refund rules to a refund ue just recorded as row
// (SPEC.md 11, Refunds): once per sale, claim of a pending sale, funding
// from the merchant account, proofs.
func (st *settlement) refund(ctx context.Context, ue *upEntry, row *PaymentRow) error {
	p := ue.pay
	if !p.IsRefund() {
		return nil
	}
	m := st.devs[p.Payer]
	if m == nil {
		return offpay.Errorf(offpay.EINTERNAL, "refund %v: its merchant device is not read", ue.pid)
	}
	if foreign(m) {
		// The merchant's own provider holds its sales and funds its
		// refunds: it applies these rules to the forwarded evidence.
		return nil
	}
	prev, err := st.firstRefund(ctx, p.Sale)
	if err != nil {
		return err
	}
	if prev != nil {
		// A second refund of one sale: M's SE refunds each sale once.
		src, err := st.entry(ctx, prev.SrcDevice, prev.SrcCounter)
		if err != nil {
			return err
		}
		return st.refundProof(ctx, m, p.Counter, src, ue.data)
	}
	ref := &RefundRow{Sale: p.Sale, Payer: p.Payer, Counter: p.Counter, PID: ue.pid, Amount: row.Amount, Account: m.Account,
		SrcDevice: row.SrcDevice, SrcCounter: row.SrcCounter}
	if st.first == nil {
		st.first = map[protocol.Hash]*RefundRow{}
	}
	st.first[p.Sale], st.order = ref, append(st.order, p.Sale)
	sale, err := st.findSale(ctx, p, m)
	if err != nil || sale == nil {
		return err // unknown, expired or no longer refundable: unfunded
	}
	if sale.Device != m.ID || sale.Payer != p.Payee || p.Amount > uint64(sale.Amount) {
		src, err := st.entry(ctx, sale.SrcDevice, sale.SrcCounter)
		if err != nil {
			return err
		}
		return st.refundProof(ctx, m, p.Counter, src, ue.data)
	}
	if m.Drawn, err = offpay.AddMinor(m.Drawn, row.Amount); err != nil {
		return err
	}
	st.dirty[m.ID] = true
	ref.Drawn = row.Amount
	st.draws = append(st.draws, ref)
	if st.opened[sale.PID] != nil {
		delete(st.opened, sale.PID)
	} else {
		st.closed = append(st.closed, *sale)
	}
	return nil
}

// findSale returns the sale refund p names as a refundable sale, after
// claiming it if it was a payment to m awaiting its claim from p's payee
// (m's SE refunds only a payment it accepted); a row describing the sale
// if it awaits the claim of another device (a proof: not m's sale); nil if
// the ledger knows no refundable sale of that ID paid by p's payee or to
// m. Stored sales are found through those two (kept by payer, with an
// index by payee), never by ID alone: a refund naming a sale between two
// others proves nothing more than one naming no sale (its till can sign
// either), and is judged as that is, by the exposure rules.
func (st *settlement) findSale(ctx context.Context, p *protocol.Payment, m *DeviceRow) (*OpenSaleRow, error) {
	if o, err := st.openRow(ctx, p.Sale, p.Payee); o != nil || err != nil {
		return o, err
	}
	s, err := st.pendingSale(ctx, p, m)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return st.tillSale(ctx, m.ID, p.Sale)
	}
	if s.Payee != m.ID || s.Payer != p.Payee {
		return &OpenSaleRow{PID: s.ID, Payer: s.Payer, Counter: s.Counter, Device: s.Payee, Amount: s.Amount,
			SrcDevice: s.SrcDevice, SrcCounter: s.SrcCounter}, nil
	}
	if i, ok := st.freshIdx[s.ID]; ok && &st.fresh[i] == s {
		s.Status, s.Resolved = protocol.StatusSettled, st.nowSec
		st.status[s.ID] = s.Status
		if err := st.credit(*s); err != nil {
			return nil, err
		}
	} else if err := st.claim(s); err != nil {
		return nil, err
	}
	return st.opened[s.ID], nil
}

// pendingSale returns the payment sale of refund p if it is recorded and
// still awaits its claim: recorded by this upload, or a stored payment of
// the uploader (the refund's payee uploading) or to the merchant device.
func (st *settlement) pendingSale(ctx context.Context, p *protocol.Payment, m *DeviceRow) (*PaymentRow, error) {
	if i, ok := st.freshIdx[p.Sale]; ok {
		if s := &st.fresh[i]; s.Status == protocol.StatusPending {
			return s, nil
		}
		return nil, nil
	}
	if st.u.id == p.Payee {
		if err := st.readOwnPending(ctx); err != nil {
			return nil, err
		}
		if s := st.pendOf[p.Sale]; s != nil && s.Status == protocol.StatusPending && !st.expired[s.Key()] {
			return s, nil
		}
		return nil, nil
	}
	ps, ok := st.pendingM[m.ID]
	if !ok {
		var err error
		if ps, err = st.tx.PendingTo(ctx, m.ID); err != nil {
			return nil, err
		}
		if st.pendingM == nil {
			st.pendingM = map[protocol.KeyID][]PaymentRow{}
		}
		st.pendingM[m.ID] = ps
	}
	for i := range ps {
		s := &ps[i]
		if s.ID == p.Sale && s.SrcDevice != (protocol.KeyID{}) && s.Status == protocol.StatusPending && !st.expired[s.Key()] && !st.claimed(s) {
			return s, nil
		}
	}
	return nil, nil
}

// refundProof stores a proof of kind refund against merchant device m and
// revokes it.
func (st *settlement) refundProof(ctx context.Context, m *DeviceRow, counter uint64, a, b []byte) error {
	return st.fraud(ctx, &ProofRow{Kind: ProofRefund, Device: m.ID, Counter: counter, EntryA: a, EntryB: b, FoundAt: st.now})
}

// fundRefunds settles what the merchant accounts can pay of the refunds
// this settlement funds, before exposure is judged: an account holds its
// refundable sales, so it covers them unless a recovery took the held
// balance; then what it holds is drawn and the rest counts as the
// device's forfeit (debt without fraud).
func (st *settlement) fundRefunds(ctx context.Context) error {
	avail := map[string]int64{}
	for _, r := range st.draws {
		if _, ok := avail[r.Account]; !ok {
			a, err := mustAccount(ctx, st.tx, r.Account)
			if err != nil {
				return err
			}
			if avail[r.Account], err = offpay.AddMinor(a.Balance, st.sweeps[r.Account]); err != nil {
				return err
			}
		}
		take := min(r.Drawn, max(avail[r.Account], 0))
		avail[r.Account] -= take
		if short := r.Drawn - take; short > 0 {
			m := st.devs[r.Payer]
			m.Drawn -= short
			var err error
			if m.Forfeit, err = offpay.AddMinor(m.Forfeit, short); err != nil {
				return err
			}
			r.Drawn = take
		}
	}
	return nil
}

// postRefunds posts the sale_refund lines of account a's funded refunds
// and records their lines.
func (st *settlement) postRefunds(ctx context.Context, tx Tx, a *AccountRow, lines map[protocol.Hash]LineRef) error {
	for _, r := range st.draws {
		if r.Account != a.Name || r.Drawn == 0 {
			continue
		}
		ref := fmt.Sprintf("refund:%v:%d", r.Payer, r.Counter)
		if err := st.s.postFor(ctx, tx, a, LineSaleRefund, -r.Drawn, ref, []string{r.PID.String()}); err != nil {
			return err
		}
		r.LineSeq = a.LineSeq
		lines[r.PID] = LineRef{a.Name, a.LineSeq}
	}
	return nil
}

// storeRefunds writes the refunds and the sales this settlement opened
// and closed.
func (st *settlement) storeRefunds(ctx context.Context) error {
	if len(st.order) > 0 {
		rows := make([]RefundRow, len(st.order))
		for i, sale := range st.order {
			rows[i] = *st.first[sale]
		}
		if err := st.tx.InsertSaleRefunds(ctx, rows); err != nil {
			return err
		}
	}
	if len(st.opened) > 0 {
		rows := make([]OpenSaleRow, 0, len(st.opened))
		for _, o := range st.opened {
			rows = append(rows, *o)
		}
		if err := st.tx.InsertOpenSales(ctx, rows); err != nil {
			return err
		}
	}
	return st.tx.DeleteOpenSales(ctx, st.closed)
}

// refundLines returns the sale_refund line of every refund among ps: from
// this settlement, or stored with the refund's sale.
func (st *settlement) refundLines(ctx context.Context, ps []PaymentRow, lines map[protocol.Hash]LineRef) (map[protocol.Hash]LineRef, error) {
	var sales []protocol.Hash
	out := map[protocol.Hash]LineRef{}
	for _, p := range ps {
		if p.Sale == (protocol.Hash{}) {
			continue
		}
		if l, ok := lines[p.ID]; ok {
			out[p.ID] = l
		} else {
			sales = append(sales, p.Sale)
		}
	}
	if len(sales) == 0 {
		return out, nil
	}
	m, err := st.tx.SaleRefunds(ctx, sales)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if r := m[p.Sale]; r != nil && r.PID == p.ID && r.LineSeq > 0 {
			out[p.ID] = LineRef{r.Account, r.LineSeq}
		}
	}
	return out, nil
}
