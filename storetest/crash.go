package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

var errCrash = errors.New("injected crash")

// faultStore fails the n-th write of its transactions (counting across
// them) while armed, as a crash between two writes would: the
// transaction must then leave no trace.
type faultStore struct {
	ledger.Store
	armed  bool
	n, cnt int
}

func (f *faultStore) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	return f.Store.Update(ctx, func(tx ledger.Tx) error { return fn(&faultTx{Tx: tx, f: f}) })
}

func (f *faultStore) hit() error {
	if !f.armed {
		return nil
	}
	f.cnt++
	if f.cnt == f.n {
		return errCrash
	}
	return nil
}

type faultTx struct {
	ledger.Tx
	f *faultStore
}

func (t *faultTx) PutMeta(ctx context.Context, k string, v []byte) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.PutMeta(ctx, k, v)
}

func (t *faultTx) UpdateAccount(ctx context.Context, a *ledger.AccountRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.UpdateAccount(ctx, a)
}

func (t *faultTx) InsertLines(ctx context.Context, l []ledger.LineRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.InsertLines(ctx, l)
}

func (t *faultTx) UpdateDevice(ctx context.Context, d *ledger.DeviceRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.UpdateDevice(ctx, d)
}

func (t *faultTx) RenewDevice(ctx context.Context, d *ledger.DeviceRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.RenewDevice(ctx, d)
}

func (t *faultTx) InsertEntries(ctx context.Context, e []ledger.EntryRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.InsertEntries(ctx, e)
}

func (t *faultTx) InsertPayments(ctx context.Context, p []ledger.PaymentRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.InsertPayments(ctx, p)
}

func (t *faultTx) InsertConflict(ctx context.Context, p *ledger.PaymentRow) (bool, error) {
	if err := t.f.hit(); err != nil {
		return false, err
	}
	return t.Tx.InsertConflict(ctx, p)
}

func (t *faultTx) InsertProof(ctx context.Context, p *ledger.ProofRow) (bool, error) {
	if err := t.f.hit(); err != nil {
		return false, err
	}
	return t.Tx.InsertProof(ctx, p)
}

func (t *faultTx) InsertOutbox(ctx context.Context, r []ledger.OutboxRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.InsertOutbox(ctx, r)
}

func (t *faultTx) InsertLoad(ctx context.Context, l *ledger.LoadRow) error {
	if err := t.f.hit(); err != nil {
		return err
	}
	return t.Tx.InsertLoad(ctx, l)
}

// testCrash crashes a settlement that records a double spend, sweeps to a
// merchant and credits a redeem, at each of its writes in turn: every
// crash leaves the ledger as it was, and the retried upload then settles.
func testCrash(t *testing.T, open Opener) {
	fs := &faultStore{}
	e := NewEnv(t, func(t *testing.T) ledger.Store { fs.Store = open(t); return fs })
	for n := 1; ; n++ {
		// Each round in accounts and devices of its own, on one store.
		name := func(x string) string { return fmt.Sprintf("c%d%s", n, x) }
		e.Account(name("alice"), false, 200)
		e.Account(name("bob"), false, 0)
		e.Account(name("shop"), true, 0)
		a, b, m := e.Device(name("-a"), name("alice")), e.Device(name("-b"), name("bob")), e.Device(name("-m"), name("shop"))
		e.Load(a, 100)
		a2 := a.Clone()
		pm := a.Pay(m.ID, 60)
		m.Receive(pm)
		a.Confirm(m.Receipt(pm)) // the shop's receipt claims it for the shop
		e.SyncAll(a)
		b.Receive(a2.Pay(b.ID, 70)) // same counter as the shop's payment
		b.Receive(a.Pay(b.ID, 10))
		b.Redeem(50)
		before := e.Conserved()
		fs.armed, fs.n, fs.cnt = true, n, 0
		_, err := e.Svc.Sync(e.Ctx, b.UploadAll())
		fs.armed = false
		if err == nil {
			if n < 5 {
				t.Fatalf("only %d writes in a settlement with fraud", n-1)
			}
			return // n passed the last write: every write was crashed once
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("write %d: %v", n, err)
		}
		if after := e.Conserved(); !reflect.DeepEqual(before, after) {
			t.Fatalf("crash at write %d left a trace", n)
		}
		res := e.SyncAll(b)
		if e.Balance(name("bob")) != 50 || e.Balance(name("shop")) != 60 || res.Acked != 3 {
			t.Fatalf("retry after crash at write %d", n)
		}
		if r := e.Conserved(); len(r.DoubleSpends) != n {
			t.Fatalf("%d proofs after round %d", len(r.DoubleSpends), n)
		}
		for _, s := range res.Statuses {
			if s.Status != protocol.StatusSettled {
				t.Fatalf("status %d", s.Status)
			}
		}
	}
}
