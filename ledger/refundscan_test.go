package ledger_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
)

// scanCounter counts the reads of a till's whole set of open sales.
type scanCounter struct {
	ledger.Store
	scans *atomic.Int64
}

func (c scanCounter) Update(ctx context.Context, fn func(ledger.Tx) error) error {
	return c.Store.Update(ctx, func(tx ledger.Tx) error { return fn(scanTx{tx, c.scans}) })
}

type scanTx struct {
	ledger.Tx
	scans *atomic.Int64
}

func (t scanTx) OpenSalePayers(ctx context.Context, device protocol.KeyID) (map[protocol.Hash]protocol.KeyID, error) {
	t.scans.Add(1)
	return t.Tx.OpenSalePayers(ctx, device)
}

// TestTillsUnknownRefundsReadItsSalesOnce: a refund naming no sale its
// payee paid makes the ledger look among its till's sales (a proof if the
// sale is there); a till's key signing many such refunds costs one read
// of the till's sales an upload, not one each (a busy till holds a
// refund window of sales: one read each would let one upload hold the
// ledger's writer for minutes). The refunds are still each judged: the
// till revoked, the payer honoured.
func TestTillsUnknownRefundsReadItsSalesOnce(t *testing.T) {
	ctx := context.Background()
	st, keys := sqliteLedger(t)
	var scans atomic.Int64
	svc := ledger.New(scanCounter{st, &scans}, keys, ledger.Options{})
	a, m, err := ledgertest.PayerAndShop(ctx, svc, "scan", 5000)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		m.Receive(a.Pay(m.ID, 100))
	}
	m.ApplySync(mustSync(t, svc, m))
	if n := scans.Load(); n != 0 {
		t.Fatalf("%d reads of the till's sales for honest sales", n)
	}
	const refunds = 30
	for i := range refunds {
		a.Receive(m.RefundOf(a.ID, protocol.Hash{byte(i + 1), 7}, 10))
	}
	// Its own log shows the overspend: revoked by this upload, which is
	// applied and answered as refused.
	if _, err := svc.Sync(ctx, m.UploadAll()); offpay.ErrorCode(err) != offpay.EFORBIDDEN {
		t.Fatalf("the till's upload of %d refunds of no sale: %v", refunds, err)
	}
	if n := scans.Load(); n != 1 {
		t.Fatalf("%d reads of the till's sales for %d refunds of unknown sales in one upload, want 1", n, refunds)
	}
	mustSync(t, svc, a)
	r, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.RevokedDevices) != 1 || r.RevokedDevices[0] != m.ID.String() {
		t.Fatalf("revoked %v after the till's %d refunds of no sale", r.RevokedDevices, refunds)
	}
}

func mustSync(t *testing.T, svc *ledger.Service, d *ledgertest.Device) *protocol.SyncResult {
	t.Helper()
	res, err := svc.Sync(context.Background(), d.UploadAll())
	if err != nil {
		t.Fatal(err)
	}
	return res
}
