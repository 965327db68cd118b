package ledger_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// statusReads records the payers of every StatusRows read.
type statusReads struct {
	ledger.Store
	mu     *sync.Mutex
	payers *[]protocol.KeyID
}

func (s statusReads) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	return s.Store.Update(ctx, func(tx ledger.Tx) error { return fn(statusTx{tx, s}) })
}

type statusTx struct {
	ledger.Tx
	s statusReads
}

func (t statusTx) StatusRows(ctx context.Context, since map[protocol.KeyID]int64) ([]ledger.PaymentRow, error) {
	t.s.mu.Lock()
	for p := range since {
		*t.s.payers = append(*t.s.payers, p)
	}
	t.s.mu.Unlock()
	return t.Tx.StatusRows(ctx, since)
}

// TestBatchReadsNoStatusesForAGap: a group commit reads the pending and
// lately resolved payments of each uploader it can apply, and not of one
// whose upload has a gap (behind): such an upload costs its sender
// nothing to send, and must not make every batch it lands in read all
// that device's payments.
func TestBatchReadsNoStatusesForAGap(t *testing.T) {
	ctx := context.Background()
	st, keys := sqliteLedger(t)
	var mu sync.Mutex
	var payers []protocol.KeyID
	svc := ledger.New(statusReads{st, &mu, &payers}, keys, ledger.Options{})
	a, m, err := ledgertest.PayerAndShop(ctx, svc, "gap", 100)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		p := a.Pay(m.ID, 10)
		m.Receive(p)
		a.Confirm(m.Receipt(p))
	}
	_, errs := svc.SyncBatchForTest(ctx, []*protocol.SyncUpload{a.UploadAll(), m.Upload(2, m.Counter())})
	if errs[0] != nil || offpay.ErrorCode(errs[1]) != offpay.EBEHIND {
		t.Fatalf("answers %v, want the payer's applied and the shop's behind", errs)
	}
	if !slices.Contains(payers, a.ID) || slices.Contains(payers, m.ID) {
		t.Fatalf("status rows read for %v; want the payer's (%v) and not the shop's with a gap (%v)", payers, a.ID, m.ID)
	}
}
