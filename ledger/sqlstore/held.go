package sqlstore

import (
	"context"
	"strings"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Held device writes. A group commit rewrites each uploader's device row
// once an upload: a statement each, a seventh of a small upload's serial
// work on PostgreSQL. HoldDeviceWrites makes UpdateDevice and
// UpdateDevices keep the rows (the newest of each device) instead, and
// writes them in one statement when the caller flushes, or before any
// statement that names the devices table (so every read of the table, and
// any other write of it, sees them: the rule holds for statements added
// later too) or sets a savepoint (so that a rollback to one undoes only
// rows held after it, which it drops).

// HoldDeviceWrites implements ledger.DeviceWriteHolder.
func (t *Tx) HoldDeviceWrites() { t.holding = true }

// FlushDeviceWrites implements ledger.DeviceWriteHolder.
func (t *Tx) FlushDeviceWrites(ctx context.Context) error {
	if t.heldErr != nil || len(t.held) == 0 {
		return t.heldErr
	}
	ds := make([]*ledger.DeviceRow, len(t.heldOrder))
	for i, id := range t.heldOrder {
		ds[i] = t.held[id]
	}
	t.held, t.heldOrder = nil, nil
	t.heldErr = t.updateDevices(ctx, ds)
	return t.heldErr
}

// hold keeps a copy of d's row; false if writes are not held.
func (t *Tx) hold(ds ...*ledger.DeviceRow) bool {
	if !t.holding {
		return false
	}
	if t.held == nil {
		t.held = map[protocol.KeyID]*ledger.DeviceRow{}
	}
	for _, d := range ds {
		if _, ok := t.held[d.ID]; !ok {
			t.heldOrder = append(t.heldOrder, d.ID)
		}
		c := *d
		t.held[d.ID] = &c
	}
	return true
}

// beforeStatement writes the held rows before a statement that needs
// them written, and drops those a rollback to a savepoint undoes.
func (t *Tx) beforeStatement(ctx context.Context, q string) error {
	if t.heldErr != nil || len(t.held) == 0 {
		return t.heldErr
	}
	switch {
	case strings.HasPrefix(q, "ROLLBACK TO "):
		t.held, t.heldOrder = nil, nil // all held since the newest savepoint
	case strings.HasPrefix(q, "SAVEPOINT ") || strings.Contains(q, "devices"):
		return t.FlushDeviceWrites(ctx)
	}
	return nil
}
