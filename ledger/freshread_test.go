package ledger_test

import (
	"context"
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
			<-g.release
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
