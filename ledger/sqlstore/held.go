package sqlstore

import (
	"context"
	"strings"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Held writes. A group commit rewrites each uploader's device row, and
// inserts and resolves payments, once an upload: three statements each,
// most of what was left of a small upload's serial work on PostgreSQL
// once its reads were made per batch. HoldWrites makes UpdateDevice,
// UpdateDevices, InsertPayments and ResolvePayments keep their rows
// instead, and writes them (devices, then inserted payments, then
// resolutions) in a statement each when the caller flushes, or before any
// statement that names the devices or payments table (so every read of
// them, and any other write, sees them: the rule holds for statements
// added later too) or sets a savepoint (so that a rollback to one undoes
// only rows held after it, which it drops). Resolutions are written after
// the inserts: a row is held for insertion only if no held resolution
// names its key (else the held rows are written first), so none of them
// applies to a row inserted after it.

// HoldWrites implements ledger.WriteHolder.
func (t *Tx) HoldWrites() { t.holding = true }

// FlushWrites implements ledger.WriteHolder.
func (t *Tx) FlushWrites(ctx context.Context) error {
	if t.heldErr != nil {
		return t.heldErr
	}
	h := t.held
	t.held = held{}
	if len(h.devOrder) > 0 {
		ds := make([]*ledger.DeviceRow, len(h.devOrder))
		for i, id := range h.devOrder {
			ds[i] = h.devs[id]
		}
		if t.heldErr = t.updateDevices(ctx, ds); t.heldErr != nil {
			return t.heldErr
		}
	}
	if len(h.pays) > 0 {
		if t.heldErr = t.insertPayments(ctx, h.pays); t.heldErr != nil {
			return t.heldErr
		}
	}
	if len(h.res) > 0 {
		// One UPDATE ... FROM takes one of two rows for the same target
		// as it likes: the last resolution of each payment only.
		last := make(map[resKey]int, len(h.res))
		for i := range h.res {
			last[resKey{h.res[i].Key(), h.res[i].ID}] = i
		}
		res := h.res[:0]
		for i := range h.res {
			if last[resKey{h.res[i].Key(), h.res[i].ID}] == i {
				res = append(res, h.res[i])
			}
		}
		t.heldErr = t.resolvePayments(ctx, res)
	}
	return t.heldErr
}

// held are the rows a transaction holds (HoldWrites).
type held struct {
	devs     map[protocol.KeyID]*ledger.DeviceRow // the newest row of each device
	devOrder []protocol.KeyID
	pays     []ledger.PaymentRow // to insert
	res      []ledger.PaymentRow // resolutions (key, ID, Status, Resolved)
	resKeys  map[ledger.PayKey]bool
}

type resKey struct {
	k  ledger.PayKey
	id protocol.Hash
}

func (h *held) empty() bool { return len(h.devOrder) == 0 && len(h.pays) == 0 && len(h.res) == 0 }

// holdDevices keeps copies of ds; false if writes are not held.
func (t *Tx) holdDevices(ds ...*ledger.DeviceRow) bool {
	if !t.holding {
		return false
	}
	if t.held.devs == nil {
		t.held.devs = map[protocol.KeyID]*ledger.DeviceRow{}
	}
	for _, d := range ds {
		if _, ok := t.held.devs[d.ID]; !ok {
			t.held.devOrder = append(t.held.devOrder, d.ID)
		}
		c := *d
		t.held.devs[d.ID] = &c
	}
	return true
}

// holdPayments keeps ps for insertion, after writing what is held if a
// held resolution names one of them; ok is false if writes are not held.
func (t *Tx) holdPayments(ctx context.Context, ps []ledger.PaymentRow) (ok bool, err error) {
	if !t.holding {
		return false, nil
	}
	for i := range ps {
		if t.held.resKeys[ps[i].Key()] {
			if err := t.FlushWrites(ctx); err != nil {
				return true, err
			}
			break
		}
	}
	t.held.pays = append(t.held.pays, ps...)
	return true, nil
}

// holdResolutions keeps ps' resolutions; false if writes are not held.
func (t *Tx) holdResolutions(ps []ledger.PaymentRow) bool {
	if !t.holding {
		return false
	}
	if t.held.resKeys == nil {
		t.held.resKeys = map[ledger.PayKey]bool{}
	}
	for i := range ps {
		t.held.res = append(t.held.res, ps[i])
		t.held.resKeys[ps[i].Key()] = true
	}
	return true
}

// beforeStatement writes the held rows before a statement that needs
// them written, and drops those a rollback to a savepoint undoes.
func (t *Tx) beforeStatement(ctx context.Context, q string) error {
	if t.heldErr != nil || t.held.empty() {
		return t.heldErr
	}
	switch {
	case strings.HasPrefix(q, "ROLLBACK TO "):
		t.held = held{} // all held since the newest savepoint
	case strings.HasPrefix(q, "SAVEPOINT ") || strings.Contains(q, "devices") || strings.Contains(q, "payments"):
		return t.FlushWrites(ctx)
	}
	return nil
}
