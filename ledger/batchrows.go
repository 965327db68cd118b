package ledger

import (
	"cmp"
	"context"
	"slices"

	"github.com/offpay/offpay/protocol"
)

// The rows of a batch. Every upload of a group commit reads the rows of
// its own device and of its payments' payers and payees, and writes most
// of them back: one query each, a fifth of the serial work of a crowd of
// small uploads. batchTx reads the device rows of the whole batch in one
// query before the first upload (prefetch) and then answers Devices from
// the rows as this transaction holds them, keeping each one as the store
// would after every write (UpdateDevice, UpdateDevices, RenewDevice write
// through to the store and here). Reads see exactly what the store would
// return: the transaction holds the rows it read (SQLite's write lock;
// PostgreSQL's serializable isolation), and nothing else writes them
// inside it. A rollback to a savepoint forgets every row, since it undoes
// writes this cache cannot tell apart. Meta values are kept the same way
// (the revocation list is read by every upload).
//
// Payments read by key (Payments: is a received payment recorded yet?
// which of this payer's own were claimed?) are kept the same way, present
// or known to be absent, and read for the whole batch in one query; the
// writes of the payments table in a batch (InsertPayments,
// ResolvePayments, SetPaymentStatus) write through to the store at once
// and here, so the range reads (PaymentsOf, PendingOf, ResolvedOf) read
// the store as before. Loads read by key (checkLoads: is a load entry one
// this ledger issued?) are read and kept the same way; a batch writes the
// loads table only to restore loads it lost (InsertLoad, MoveLoad), which
// forgets them all.
//
// Log entries are only appended by settlement, and read back only through
// Entries: they are held like statement lines and written in one
// statement per chunk when the batch ends, Entries adding the held rows
// of the device to the store's. An upload rolled back to its savepoint
// drops its own (RollbackTo, batch.go).

// deviceIDs are the devices an upload reads when it is applied.
func (u *upload) deviceIDs() []protocol.KeyID {
	ids := []protocol.KeyID{u.id}
	for _, ue := range u.entries {
		if ue.pay != nil && !ue.rejected {
			ids = append(ids, ue.pay.Payer, ue.pay.Payee)
		}
		if ue.receipt != nil && !ue.rejected {
			ids = append(ids, ue.receipt.Payee)
		}
	}
	return ids
}

// payKeys are the payments an upload reads by key when it is applied:
// those it received, and its own (claimed by their payees first).
func (u *upload) payKeys() []PayKey {
	var keys []PayKey
	for _, ue := range u.entries {
		switch {
		case ue.pay == nil || ue.rejected:
		case ue.e.Kind == protocol.EntryReceive:
			keys = append(keys, PayKey{ue.pay.Payer, ue.pay.Counter})
		case ue.e.Kind == protocol.EntryPay:
			keys = append(keys, PayKey{u.id, ue.e.Counter})
		}
	}
	return keys
}

// loadKeys are the loads an upload reads when it is applied: those its
// load entries name.
func (u *upload) loadKeys() []LoadKey {
	var keys []LoadKey
	for _, ue := range u.entries {
		if ue.load != nil {
			keys = append(keys, LoadKey{u.id, ue.load.Seq})
		}
	}
	return keys
}

// prefetch reads the rows of devices ids, payments keys and loads lks
// into the batch's rows.
func (b *batchTx) prefetch(ctx context.Context, ids []protocol.KeyID, keys []PayKey, lks []LoadKey) error {
	if _, err := b.Devices(ctx, ids); err != nil {
		return err
	}
	if _, err := b.Payments(ctx, keys); err != nil {
		return err
	}
	if len(lks) == 0 {
		return nil
	}
	m, err := b.Tx.Loads(ctx, lks)
	if err != nil {
		return err
	}
	b.loads = make(map[LoadKey]*LoadRow, len(lks))
	for _, k := range lks {
		b.loads[k] = m[k]
	}
	return nil
}

// Load implements Tx: a copy of the batch's row, or the store's.
func (b *batchTx) Load(ctx context.Context, device protocol.KeyID, seq uint64) (*LoadRow, error) {
	if l, ok := b.loads[LoadKey{device, seq}]; ok {
		if l == nil {
			return nil, nil
		}
		c := *l
		c.Data = slices.Clone(l.Data)
		return &c, nil
	}
	return b.Tx.Load(ctx, device, seq)
}

// InsertLoad implements Tx.
func (b *batchTx) InsertLoad(ctx context.Context, l *LoadRow) error {
	b.loads = nil
	return b.Tx.InsertLoad(ctx, l)
}

// MoveLoad implements Tx.
func (b *batchTx) MoveLoad(ctx context.Context, from uint64, l *LoadRow) error {
	b.loads = nil
	return b.Tx.MoveLoad(ctx, from, l)
}

// Payments implements Tx: copies of the batch's rows, the store's for the
// rest.
func (b *batchTx) Payments(ctx context.Context, keys []PayKey) (map[PayKey]*PaymentRow, error) {
	return readKept(ctx, &b.pays, keys, b.Tx.Payments)
}

// readKept returns copies of the rows of keys kept in *m, and the
// store's rows of the rest (read with read), which it keeps (nil where
// absent). Rows hold no slices: a copy of the struct is a copy.
func readKept[R any](ctx context.Context, m *map[PayKey]*R, keys []PayKey, read func(context.Context, []PayKey) (map[PayKey]*R, error)) (map[PayKey]*R, error) {
	if *m == nil {
		*m = map[PayKey]*R{}
	}
	out := make(map[PayKey]*R, len(keys))
	var miss []PayKey
	for _, k := range keys {
		if r, ok := (*m)[k]; !ok {
			miss = append(miss, k)
		} else if r != nil {
			c := *r
			out[k] = &c
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	got, err := read(ctx, miss)
	if err != nil {
		return nil, err
	}
	for _, k := range miss {
		r := got[k]
		(*m)[k] = nil
		if r != nil {
			c := *r
			(*m)[k] = &c
			out[k] = r
		}
	}
	return out, nil
}

// InsertPayments implements Tx.
func (b *batchTx) InsertPayments(ctx context.Context, rows []PaymentRow) error {
	if err := b.Tx.InsertPayments(ctx, rows); err != nil {
		b.pays, b.sets = nil, nil
		return err
	}
	b.inserted(rows)
	keepWritten(b.pays, rows, (*PaymentRow).Key)
	return nil
}

// keepWritten sets the kept rows of m under the keys of rows, written to
// the store, to copies of them; keys not kept stay so.
func keepWritten[R any](m map[PayKey]*R, rows []R, key func(*R) PayKey) {
	for i := range rows {
		k := key(&rows[i])
		if _, ok := m[k]; ok {
			c := rows[i]
			m[k] = &c
		}
	}
}

// ResolvePayments implements Tx.
func (b *batchTx) ResolvePayments(ctx context.Context, ps []PaymentRow) error {
	if err := b.Tx.ResolvePayments(ctx, ps); err != nil {
		b.pays, b.sets = nil, nil
		return err
	}
	for i := range ps {
		b.resolved(ps[i].Key(), ps[i].ID, ps[i].Status, ps[i].Resolved)
		b.resolvedSet(ps[i].Key(), ps[i].ID, ps[i].Status, ps[i].Resolved)
	}
	return nil
}

// SetPaymentStatus implements Tx.
func (b *batchTx) SetPaymentStatus(ctx context.Context, k PayKey, id protocol.Hash, status uint8, at int64) error {
	if err := b.Tx.SetPaymentStatus(ctx, k, id, status, at); err != nil {
		b.pays, b.sets = nil, nil
		return err
	}
	b.resolved(k, id, status, at)
	b.resolvedSet(k, id, status, at)
	return nil
}

// resolved sets the status and resolution time of the kept row of k, if
// it is payment id (the stores' UPDATE matches the payment's ID too) and
// pending. A row that is not pending may be in the archive, which these
// writes leave alone (ResolvePayments writes the main table only, and
// the SQL stores' SetPaymentStatus too: only pending payments change
// status, and none is archived); Payments returns both tables' rows
// alike, so such a row is forgotten and read again.
func (b *batchTx) resolved(k PayKey, id protocol.Hash, status uint8, at int64) {
	switch c := b.pays[k]; {
	case c == nil || c.ID != id:
	case c.Status == protocol.StatusPending:
		c.Status, c.Resolved = status, at
	default:
		delete(b.pays, k)
	}
}

// Devices implements Tx: copies of the batch's rows, the store's for the
// rest.
func (b *batchTx) Devices(ctx context.Context, ids []protocol.KeyID) (map[protocol.KeyID]*DeviceRow, error) {
	if b.devs == nil {
		b.devs = map[protocol.KeyID]*DeviceRow{}
	}
	out := make(map[protocol.KeyID]*DeviceRow, len(ids))
	var miss []protocol.KeyID
	for _, id := range ids {
		if d, ok := b.devs[id]; ok {
			c := *d
			out[id] = &c
		} else {
			miss = append(miss, id)
		}
	}
	if len(miss) == 0 {
		return out, nil
	}
	m, err := b.Tx.Devices(ctx, miss)
	if err != nil {
		return nil, err
	}
	for id, d := range m {
		c := *d
		b.devs[id] = &c
		out[id] = d
	}
	return out, nil
}

// UpdateDevice implements Tx.
func (b *batchTx) UpdateDevice(ctx context.Context, d *DeviceRow) error {
	if err := b.Tx.UpdateDevice(ctx, d); err != nil {
		b.devs = nil
		return err
	}
	b.updated(d)
	return nil
}

// UpdateDevices implements Tx.
func (b *batchTx) UpdateDevices(ctx context.Context, ds []*DeviceRow) error {
	if err := b.Tx.UpdateDevices(ctx, ds); err != nil {
		b.devs = nil
		return err
	}
	for _, d := range ds {
		b.updated(d)
	}
	return nil
}

// RenewDevice implements Tx.
func (b *batchTx) RenewDevice(ctx context.Context, d *DeviceRow) error {
	if err := b.Tx.RenewDevice(ctx, d); err != nil {
		b.devs = nil
		return err
	}
	if c := b.devs[d.ID]; c != nil {
		c.renewFrom(d)
	}
	return nil
}

// InsertDevice implements Tx.
func (b *batchTx) InsertDevice(ctx context.Context, d *DeviceRow) error {
	delete(b.devs, d.ID)
	return b.Tx.InsertDevice(ctx, d)
}

// Meta implements Tx.
func (b *batchTx) Meta(ctx context.Context, key string) ([]byte, error) {
	if v, ok := b.meta[key]; ok {
		return slices.Clone(v), nil
	}
	v, err := b.Tx.Meta(ctx, key)
	if err != nil {
		return nil, err
	}
	if b.meta == nil {
		b.meta = map[string][]byte{}
	}
	b.meta[key] = slices.Clone(v)
	return v, nil
}

// PutMeta implements Tx.
func (b *batchTx) PutMeta(ctx context.Context, key string, val []byte) error {
	delete(b.meta, key) // read again: a store may give an empty value back as nil
	return b.Tx.PutMeta(ctx, key, val)
}

// InsertEntries implements Tx: held until the batch ends.
func (b *batchTx) InsertEntries(_ context.Context, rows []EntryRow) error {
	b.entries = append(b.entries, rows...)
	return nil
}

// Entries implements Tx: the store's and the held ones.
func (b *batchTx) Entries(ctx context.Context, device protocol.KeyID, lo, hi uint64) ([]EntryRow, error) {
	out, err := b.Tx.Entries(ctx, device, lo, hi)
	if err != nil {
		return nil, err
	}
	n := len(out)
	for _, e := range b.entries {
		if e.Device == device && e.Counter >= lo && e.Counter <= hi {
			out = append(out, e)
		}
	}
	if len(out) > n {
		slices.SortFunc(out, func(x, y EntryRow) int { return cmp.Compare(x.Counter, y.Counter) })
	}
	return out, nil
}

func (b *batchTx) updated(d *DeviceRow) {
	if c := b.devs[d.ID]; c != nil {
		c.updateFrom(d)
	}
}

// updateFrom sets the fields of d that UpdateDevice writes to u's: all
// but its identity, account, creation and certificate (the fields
// RenewDevice writes).
func (d *DeviceRow) updateFrom(u *DeviceRow) {
	keep := *d
	*d = *u
	d.ID, d.Account, d.Merchant, d.CreatedAt = keep.ID, keep.Account, keep.Merchant, keep.CreatedAt
	d.renewFrom(&keep)
}

// renewFrom sets the fields of d that RenewDevice writes to u's.
func (d *DeviceRow) renewFrom(u *DeviceRow) {
	d.Cert, d.CertTime, d.MaxPerPayment, d.MaxHolding = u.Cert, u.CertTime, u.MaxPerPayment, u.MaxHolding
	d.MaxDays, d.NotAfter, d.MaxHops, d.MaxCount, d.MaxValue = u.MaxDays, u.NotAfter, u.MaxHops, u.MaxCount, u.MaxValue
}
