package ledger

import (
	"cmp"
	"context"
	"slices"

	"github.com/offpay/offpay/protocol"
)

// The range reads of a batch. Besides the rows read by key (batchrows.go),
// every upload of a group commit reads four ranges of its own device's
// rows: its payments in the counters of its new entries (PaymentsOf: did
// a payee record one first?), the receipts kept for those counters
// (ReceiptsOf), and its payments still pending or lately resolved
// (PendingOf, ResolvedOf: the statuses its answer carries). On PostgreSQL
// each was a round trip inside the batch's one-at-a-time part, four of
// the seven statements of a small upload. The batch reads them for all
// its uploads before the first:
//
//   - PaymentsOf and ReceiptsOf ranges lie within the counters of the
//     upload's entries above its device's acked: prefetch reads every such
//     key (payments by key already; receipts the same way), and a range
//     read is answered from the kept rows when every key of the range is
//     kept (present or known absent), else from the store.
//   - PendingOf and ResolvedOf read the rows of a payer pending or resolved
//     since a time: prefetch reads them for every uploading device whose
//     upload can apply, since its sync time as the batch begins, in one
//     statement (StatusRows).
//     The batch then keeps each payer's set complete through its own
//     writes of the payments table: a row inserted joins its payer's set
//     if it is pending or resolved since; a kept pending row resolved
//     changes in place. A write the set cannot follow exactly (a row not
//     kept, or not pending, resolved again: it may be archived, where the
//     stores leave it) forgets that payer's set, and its reads go to the
//     store. A ResolvedOf asking for rows since an earlier time than the
//     set holds goes to the store too.
//
// A rollback to a savepoint forgets them all, as it does the rows kept
// by key.

// maxKeptRange bounds the range of counters answered from kept rows.
const maxKeptRange = 4 * protocol.MaxSyncEntries

// statusSet is the rows of one payer PendingOf and ResolvedOf read,
// resolved since since, by counter.
type statusSet struct {
	since int64
	rows  map[uint64]*PaymentRow
}

// prefetchUploads reads what the uploads of a batch will read: their
// devices' rows first, then by key the payments and loads they read
// (batchrows.go) and the payments and receipts under the counters of
// their entries not yet applied, and the status rows of the uploaders
// whose uploads can be applied (enrolled, not revoked, no gap): an upload
// that fails on a gap, which costs its sender nothing to send, makes the
// batch read no more than it did.
func (b *batchTx) prefetchUploads(ctx context.Context, ups []*upload) error {
	var ids, own []protocol.KeyID
	var keys, rks []PayKey
	var loads []LoadKey
	for _, u := range ups {
		ids = append(ids, u.deviceIDs()...)
		keys = append(keys, u.payKeys()...)
		loads = append(loads, u.loadKeys()...)
	}
	if _, err := b.Devices(ctx, ids); err != nil {
		return err
	}
	for _, u := range ups {
		d := b.devs[u.id]
		if d == nil || len(u.entries) == 0 {
			continue
		}
		fresh := u.keysAfter(d.Acked)
		keys = append(keys, fresh...)
		rks = append(append(rks, fresh...), u.receiptKeys()...)
		if !d.Revoked && u.entries[0].e.Counter <= d.Acked+1 {
			own = append(own, u.id)
		}
	}
	if err := b.prefetch(ctx, nil, keys, loads); err != nil {
		return err
	}
	return b.prefetchRanges(ctx, rks, own)
}

// keysAfter are the (device, counter) keys of the upload's entries above
// acked: the ranges its PaymentsOf and ReceiptsOf read lie within them.
func (u *upload) keysAfter(acked uint64) []PayKey {
	var keys []PayKey
	for _, ue := range u.entries {
		if ue.e.Counter > acked {
			keys = append(keys, PayKey{u.id, ue.e.Counter})
		}
	}
	return keys
}

// receiptKeys are the receipts kept for the payees an upload's confirm
// entries name, which it reads by key.
func (u *upload) receiptKeys() []PayKey {
	var keys []PayKey
	for _, ue := range u.entries {
		if r := ue.receipt; r != nil && !ue.rejected && r.Counter != 0 && r.Counter <= maxReceiptCounter {
			keys = append(keys, PayKey{r.Payee, r.Counter})
		}
	}
	return keys
}

// prefetchRanges reads the receipts of keys rks and the status rows of
// the devices ids (whose rows prefetch has read) into the batch.
func (b *batchTx) prefetchRanges(ctx context.Context, rks []PayKey, ids []protocol.KeyID) error {
	if _, err := b.Receipts(ctx, rks); err != nil {
		return err
	}
	since := make(map[protocol.KeyID]int64, len(ids))
	for _, id := range ids {
		if d := b.devs[id]; d != nil {
			since[id] = max(int64(d.SyncTime)-statusSlack, 0)
		}
	}
	rows, err := b.Tx.StatusRows(ctx, since)
	if err != nil {
		return err
	}
	b.sets = make(map[protocol.KeyID]*statusSet, len(since))
	for id, s := range since {
		b.sets[id] = &statusSet{since: s, rows: map[uint64]*PaymentRow{}}
	}
	for i := range rows {
		if s := b.sets[rows[i].Payer]; s != nil {
			s.rows[rows[i].Counter] = &rows[i]
		}
	}
	return nil
}

// PaymentsOf implements Tx: from the kept rows when they hold every key
// of the range.
func (b *batchTx) PaymentsOf(ctx context.Context, payer protocol.KeyID, lo, hi uint64) ([]PaymentRow, error) {
	if out, ok := keptRange(b.pays, payer, lo, hi); ok {
		return out, nil
	}
	return b.Tx.PaymentsOf(ctx, payer, lo, hi)
}

// ReceiptsOf implements Tx: from the kept rows when they hold every key
// of the range.
func (b *batchTx) ReceiptsOf(ctx context.Context, payee protocol.KeyID, lo, hi uint64) ([]ReceiptRow, error) {
	if out, ok := keptRange(b.rcpts, payee, lo, hi); ok {
		return out, nil
	}
	return b.Tx.ReceiptsOf(ctx, payee, lo, hi)
}

// keptRange returns copies of the rows of device from lo to hi in m, in
// order, if m holds every key of the range (nil: known absent).
func keptRange[R any](m map[PayKey]*R, device protocol.KeyID, lo, hi uint64) ([]R, bool) {
	if m == nil || hi < lo || hi-lo >= maxKeptRange {
		return nil, false
	}
	var out []R
	for c := lo; ; c++ {
		r, ok := m[PayKey{device, c}]
		if !ok {
			return nil, false
		}
		if r != nil {
			out = append(out, *r)
		}
		if c == hi {
			return out, true
		}
	}
}

// Receipts implements Tx: copies of the batch's rows, the store's for the
// rest.
func (b *batchTx) Receipts(ctx context.Context, keys []PayKey) (map[PayKey]*ReceiptRow, error) {
	return readKept(ctx, &b.rcpts, keys, b.Tx.Receipts)
}

// InsertReceipts implements Tx.
func (b *batchTx) InsertReceipts(ctx context.Context, rows []ReceiptRow) error {
	if err := b.Tx.InsertReceipts(ctx, rows); err != nil {
		b.rcpts = nil
		return err
	}
	keepWritten(b.rcpts, rows, (*ReceiptRow).Key)
	return nil
}

// PendingOf implements Tx: from the payer's kept set, if there is one.
func (b *batchTx) PendingOf(ctx context.Context, payer protocol.KeyID, below uint64) ([]PaymentRow, error) {
	s := b.sets[payer]
	if s == nil {
		return b.Tx.PendingOf(ctx, payer, below)
	}
	return s.sorted(func(p *PaymentRow) bool { return p.Status == protocol.StatusPending && p.Counter < below }), nil
}

// ResolvedOf implements Tx: from the payer's kept set, if there is one
// holding the rows resolved since then.
func (b *batchTx) ResolvedOf(ctx context.Context, payer protocol.KeyID, since int64, skipLo, skipHi uint64) ([]PaymentRow, error) {
	s := b.sets[payer]
	if s == nil || since < s.since {
		return b.Tx.ResolvedOf(ctx, payer, since, skipLo, skipHi)
	}
	return s.sorted(func(p *PaymentRow) bool {
		return p.Resolved > 0 && p.Resolved >= since && (skipLo > skipHi || p.Counter < skipLo || p.Counter > skipHi)
	}), nil
}

// sorted returns copies of the rows of s for which keep holds, by counter.
func (s *statusSet) sorted(keep func(*PaymentRow) bool) []PaymentRow {
	var out []PaymentRow
	for _, p := range s.rows {
		if keep(p) {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(x, y PaymentRow) int { return cmp.Compare(x.Counter, y.Counter) })
	return out
}

// holds says whether a row belongs in s.
func (s *statusSet) holds(p *PaymentRow) bool {
	return p.Status == protocol.StatusPending || (p.Resolved > 0 && p.Resolved >= s.since)
}

// inserted adds the new rows ps to their payers' sets.
func (b *batchTx) inserted(ps []PaymentRow) {
	for i := range ps {
		if s := b.sets[ps[i].Payer]; s != nil && s.holds(&ps[i]) {
			c := ps[i]
			s.rows[c.Counter] = &c
		}
	}
}

// resolvedSet follows a resolution of the row k, if it is payment id, in
// its payer's set, or forgets the set where it cannot.
func (b *batchTx) resolvedSet(k PayKey, id protocol.Hash, status uint8, at int64) {
	s := b.sets[k.Payer]
	if s == nil {
		return
	}
	switch p := s.rows[k.Counter]; {
	case p != nil && p.ID != id: // the UPDATE matches no row
	case p != nil && p.Status == protocol.StatusPending:
		p.Status, p.Resolved = status, at
		if !s.holds(p) {
			delete(s.rows, k.Counter)
		}
	default:
		delete(b.sets, k.Payer)
	}
}
