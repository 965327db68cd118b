package ledger_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// TestHeldWritesKeepTheirOrder: a transaction holding its writes
// (ledger.WriteHolder, a group commit) leaves the store as the same
// writes made one by one would: a resolution held before the insert of
// its payment matches nothing, as it did when made; of two resolutions of
// one payment the later stays; a device row written twice is written as
// the second time; a rollback to a savepoint undoes the held writes after
// it and keeps those before. On both stores.
func TestHeldWritesKeepTheirOrder(t *testing.T) {
	for _, name := range storeNames() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := batchStore(t, name)
			a, b := protocol.KeyID{0xa}, protocol.KeyID{0xb}
			pay := func(payer protocol.KeyID, c uint64, status uint8, at int64) ledger.PaymentRow {
				return ledger.PaymentRow{Payer: payer, Counter: c, ID: protocol.Hash{byte(c)}, Payee: b, Amount: 5, Status: status,
					SrcDevice: b, SrcCounter: c, CreatedAt: 1, Time: 1, Resolved: at}
			}
			errDone := errors.New("done")
			err := st.Update(ctx, func(tx ledger.Tx) error {
				if err := tx.InsertAccount(ctx, &ledger.AccountRow{Name: "x"}); err != nil {
					return err
				}
				for _, id := range []protocol.KeyID{a, b} {
					if err := tx.InsertDevice(ctx, &ledger.DeviceRow{ID: id, Account: "x", Cert: []byte{1}}); err != nil {
						return err
					}
				}
				h, ok := tx.(ledger.WriteHolder)
				if !ok {
					t.Fatal("the store cannot hold writes")
				}
				h.HoldWrites()
				pending := protocol.StatusPending
				steps := []func() error{
					// 1: resolved before it is inserted: no match then.
					func() error {
						return tx.ResolvePayments(ctx, []ledger.PaymentRow{pay(a, 1, protocol.StatusSettled, 9)})
					},
					func() error { return tx.InsertPayments(ctx, []ledger.PaymentRow{pay(a, 1, pending, 0)}) },
					// 2: inserted, then resolved twice.
					func() error { return tx.InsertPayments(ctx, []ledger.PaymentRow{pay(a, 2, pending, 0)}) },
					func() error {
						return tx.ResolvePayments(ctx, []ledger.PaymentRow{pay(a, 2, protocol.StatusSettled, 5)})
					},
					func() error {
						return tx.ResolvePayments(ctx, []ledger.PaymentRow{pay(a, 2, protocol.StatusRejected, 7)})
					},
					// Device a written twice.
					func() error { return tx.UpdateDevice(ctx, &ledger.DeviceRow{ID: a, Sent: 1}) },
					func() error { return tx.UpdateDevices(ctx, []*ledger.DeviceRow{{ID: a, Sent: 2}, {ID: b, Sent: 3}}) },
					// Before a savepoint: kept; after it: undone.
					func() error { return tx.InsertPayments(ctx, []ledger.PaymentRow{pay(a, 3, pending, 0)}) },
					func() error { return tx.Savepoint(ctx, "sp") },
					func() error { return tx.InsertPayments(ctx, []ledger.PaymentRow{pay(a, 4, pending, 0)}) },
					func() error {
						return tx.ResolvePayments(ctx, []ledger.PaymentRow{pay(a, 3, protocol.StatusSettled, 8)})
					},
					func() error { return tx.UpdateDevice(ctx, &ledger.DeviceRow{ID: b, Sent: 4}) },
					func() error { return tx.RollbackTo(ctx, "sp") },
					func() error { return h.FlushWrites(ctx) },
				}
				for i, step := range steps {
					if err := step(); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
				ps, err := tx.Payments(ctx, []ledger.PayKey{{Payer: a, Counter: 1}, {Payer: a, Counter: 2}, {Payer: a, Counter: 3}, {Payer: a, Counter: 4}})
				if err != nil {
					return err
				}
				for c, want := range map[uint64]struct {
					status uint8
					at     int64
				}{1: {pending, 0}, 2: {protocol.StatusRejected, 7}, 3: {pending, 0}} {
					if p := ps[ledger.PayKey{Payer: a, Counter: c}]; p == nil || p.Status != want.status || p.Resolved != want.at {
						t.Errorf("payment %d: %+v, want status %d resolved %d", c, p, want.status, want.at)
					}
				}
				if p := ps[ledger.PayKey{Payer: a, Counter: 4}]; p != nil {
					t.Errorf("payment 4, inserted after the savepoint rolled back to, is stored: %+v", p)
				}
				ds, err := tx.Devices(ctx, []protocol.KeyID{a, b})
				if err != nil {
					return err
				}
				if ds[a].Sent != 2 || ds[b].Sent != 3 {
					t.Errorf("devices sent %d and %d, want 2 and 3", ds[a].Sent, ds[b].Sent)
				}
				return errDone
			})
			if !errors.Is(err, errDone) {
				t.Fatal(err)
			}
		})
	}
}

// TestHeldWriteErrorIsTheOneReturned: when writing held rows fails (here a
// payment whose key is taken: on PostgreSQL a conflict another process
// causes looks so, and is retried), the statement that made them be
// written returns that error, whatever kind of statement it is, and so
// does the flush at the end: never the next statement's ("transaction
// aborted" on PostgreSQL, which no retry takes up), never a commit
// without the held rows.
func TestHeldWriteErrorIsTheOneReturned(t *testing.T) {
	for _, name := range storeNames() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := batchStore(t, name)
			a := protocol.KeyID{0xa}
			p := ledger.PaymentRow{Payer: a, Counter: 1, ID: protocol.Hash{1}, Payee: a, Amount: 5, Status: protocol.StatusPending,
				SrcDevice: a, SrcCounter: 1, CreatedAt: 1, Time: 1}
			errDone := errors.New("done")
			err := st.Update(ctx, func(tx ledger.Tx) error {
				if err := tx.InsertPayments(ctx, []ledger.PaymentRow{p}); err != nil {
					return err
				}
				h := tx.(ledger.WriteHolder)
				h.HoldWrites()
				p.ID = protocol.Hash{2}
				if err := tx.InsertPayments(ctx, []ledger.PaymentRow{p}); err != nil {
					t.Fatalf("a held insert failed at once: %v", err)
				}
				taken := func(err error) bool {
					return err != nil && (strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "duplicate key"))
				}
				if _, _, err := tx.PaymentTotals(ctx); !taken(err) { // one row (QueryRow) naming payments
					t.Errorf("the statement that wrote the held rows: %v, want the taken key's error", err)
				}
				if err := h.FlushWrites(ctx); !taken(err) {
					t.Errorf("the flush after it: %v, want the taken key's error", err)
				}
				return errDone
			})
			if !errors.Is(err, errDone) {
				t.Fatal(err)
			}
		})
	}
}
