package ledger_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// gateStore counts read transactions and, once armed, holds the next one
// until released, after its snapshot is taken (its first read).
type gateStore struct {
	ledger.Store
	views   atomic.Int64
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gateStore) View(ctx context.Context, fn func(ledger.Tx) error) error {
	g.views.Add(1)
	return g.Store.View(ctx, func(tx ledger.Tx) error {
		if g.armed.CompareAndSwap(true, false) {
			if _, err := tx.Meta(ctx, "gate"); err != nil {
				return err
			}
			g.entered <- struct{}{}
			select {
			case <-g.release:
			case <-ctx.Done(): // a stuck read's callers all gave up
				return ctx.Err()
			}
		}
		return fn(tx)
	})
}

// TestFreshReadsTogetherAndAfterArrival: uploads that arrive while an
// uploader's row is being read have their rows read together in the next
// read, one transaction for all (a crowd back from an outage), and that
// read starts after they arrived: a change committed while the first read
// ran (a certificate renewed by another ledger process) is seen by all.
func TestFreshReadsTogetherAndAfterArrival(t *testing.T) {
	ctx := context.Background()
	st, keys := sqliteLedger(t)
	gate := &gateStore{Store: st, entered: make(chan struct{}, 1), release: make(chan struct{})}
	svc := ledger.New(gate, keys, ledger.Options{})
	_, m, err := ledgertest.PayerAndShop(ctx, svc, "fresh", 100)
	if err != nil {
		t.Fatal(err)
	}
	gate.armed.Store(true)
	first := make(chan error, 1)
	var before uint64
	go func() {
		var err error
		before, err = svc.FreshDeviceForTest(ctx, m.ID)
		first <- err
	}()
	<-gate.entered // the first read has begun
	const limit = 1 << 40
	if err := st.Update(ctx, func(tx ledger.Tx) error {
		ds, err := tx.Devices(ctx, []protocol.KeyID{m.ID})
		if err != nil {
			return err
		}
		d := ds[m.ID]
		d.MaxPerPayment = limit
		return tx.RenewDevice(ctx, d)
	}); err != nil {
		t.Fatal(err)
	}
	views := gate.views.Load()
	const n = 9
	got := make([]uint64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = svc.FreshDeviceForTest(ctx, m.ID)
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); svc.FreshQueuedForTest() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d reads queued behind the first, want %d", svc.FreshQueuedForTest(), n)
		}
	}
	close(gate.release)
	wg.Wait()
	if err := <-first; err != nil || before == limit {
		// The first read began before the change: were the others served
		// by it, they would not see the change either.
		t.Fatalf("the read begun before the change saw limit %d, %v", before, err)
	}
	for i := range n {
		if errs[i] != nil || got[i] != limit {
			t.Fatalf("read %d: limit %d, %v; want %d (the row as committed before the read was asked)", i, got[i], errs[i], limit)
		}
	}
	if v := gate.views.Load() - views; v != 1 {
		t.Fatalf("%d reads arriving together took %d transactions, want 1", n, v)
	}
}

// TestFreshReadGivesUpWithItsCallers: a read that hangs (a connection
// stuck after a failover) does not hold its caller past the caller's own
// deadline, and once every caller of that read has gone it is cancelled,
// so the reads queued behind it go on.
func TestFreshReadGivesUpWithItsCallers(t *testing.T) {
	ctx := context.Background()
	st, keys := sqliteLedger(t)
	gate := &gateStore{Store: st, entered: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(gate.release)
	svc := ledger.New(gate, keys, ledger.Options{})
	a, m, err := ledgertest.PayerAndShop(ctx, svc, "stuck", 100)
	if err != nil {
		t.Fatal(err)
	}
	gate.armed.Store(true)
	stuck, cancel := context.WithCancel(ctx)
	first := make(chan error, 1)
	go func() {
		_, err := svc.FreshDeviceForTest(stuck, m.ID)
		first <- err
	}()
	<-gate.entered
	later := make(chan error, 1)
	go func() { // queued behind the stuck read
		wait, done := context.WithTimeout(ctx, 5*time.Second)
		defer done()
		_, err := svc.FreshDeviceForTest(wait, a.ID)
		later <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); svc.FreshQueuedForTest() < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second read never queued")
		}
	}
	cancel()
	select {
	case err := <-first:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the stuck read's caller got %v, want its cancellation", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the stuck read's caller still waits 2 s after giving up")
	}
	if err := <-later; err != nil {
		t.Fatalf("the read queued behind the stuck one: %v", err)
	}
}

// TestFreshReadsFailAlone: reads done together fail each on its own row:
// a device whose stored certificate cannot be decoded fails its own
// upload, not those read beside it.
func TestFreshReadsFailAlone(t *testing.T) {
	ctx := context.Background()
	st, keys := sqliteLedger(t)
	gate := &gateStore{Store: st, entered: make(chan struct{}, 1), release: make(chan struct{})}
	svc := ledger.New(gate, keys, ledger.Options{})
	a, m, err := ledgertest.PayerAndShop(ctx, svc, "alone", 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, func(tx ledger.Tx) error {
		ds, err := tx.Devices(ctx, []protocol.KeyID{m.ID})
		if err != nil {
			return err
		}
		d := ds[m.ID]
		d.Cert = []byte{0xff}
		return tx.RenewDevice(ctx, d)
	}); err != nil {
		t.Fatal(err)
	}
	gate.armed.Store(true)
	first := make(chan error, 1)
	go func() {
		_, err := svc.FreshDeviceForTest(ctx, a.ID)
		first <- err
	}()
	<-gate.entered
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, id := range []protocol.KeyID{m.ID, a.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.FreshDeviceForTest(ctx, id)
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); svc.FreshQueuedForTest() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reads never queued")
		}
	}
	close(gate.release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if errs[0] == nil {
		t.Error("the device with a broken certificate was read without error")
	}
	if errs[1] != nil {
		t.Errorf("a device read beside it failed too: %v", errs[1])
	}
}
