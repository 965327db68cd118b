package vse_test

import (
	"sync"
	"testing"

	"github.com/offpay/offpay/protocol"
)

// TestConcurrentPayments: one SE paying from many goroutines at once
// keeps one unbroken chain, distinct counters, and the exact balance.
func TestConcurrentPayments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 10000)
	const workers, each = 6, 4
	reqs := make([]*protocol.PaymentRequest, workers*each)
	for i := range reqs {
		reqs[i] = request(t, f.b, 100)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(reqs))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				b, err := f.a.Pay(reqs[w*each+i], 0, now)
				if err == nil {
					var rc *protocol.Receipt
					if rc, err = f.b.Receive(b, now); err == nil {
						err = f.a.ConfirmReceipt(rc, now)
					}
				}
				if err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sa, sb := status(t, f.a), status(t, f.b)
	if sa.Balance != 10000-workers*each*100 || sb.Balance != workers*each*100 {
		t.Fatalf("balances %d %d", sa.Balance, sb.Balance)
	}
	es, err := f.a.Log(1)
	if err != nil {
		t.Fatal(err)
	}
	var prev protocol.Hash
	for i, e := range es {
		if e.Counter != uint64(i+1) || e.Prev != prev {
			t.Fatalf("chain broken at %d", e.Counter)
		}
		prev = e.Hash()
	}
	if len(es) != 1+2*workers*each || sa.Head != prev {
		t.Fatalf("%d entries", len(es))
	}
}
