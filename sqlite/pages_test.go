package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/sqlite"
)

// TestUploadWritesAsManyPagesInALargeStore: settling a shop's upload of
// 100 sales writes about as many database pages (WAL frames) into a store
// already holding 30,000 open sales of other payers as into one holding
// 1,000. A sale's hold is kept by its payer's key, so one upload's sales
// share pages; kept by the sale's ID (a hash), each would dirty a page of
// its own in an index that grows with the store, and the cost of a
// payment with it (README "Settlement cost as the store grows").
func TestUploadWritesAsManyPagesInALargeStore(t *testing.T) {
	small := uploadFrames(t, 1000)
	large := uploadFrames(t, 30000)
	t.Logf("WAL frames for one upload of 100 sales: %d beside 1,000 open sales, %d beside 30,000", small, large)
	if large > small+small/5 {
		t.Fatalf("the upload wrote %d pages beside 30,000 open sales, %d beside 1,000: the cost of a payment grows with the store", large, small)
	}
}

// uploadFrames returns the WAL frames that settling 100 sales of one
// payer to one shop (the shop's upload, then the payer's) wrote into a
// store already holding open sales of others.
func uploadFrames(t *testing.T, others int) int {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "l.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{})
	a, m, err := ledgertest.PayerAndShop(ctx, svc, "pages", 50000)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		m.Receive(a.Pay(m.ID, 100))
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Other shops' sales from other payers, held for long.
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO open_sales (pid, payer, counter, device, account, amount, closes, stale, src_device, src_counter, released)
		SELECT randomblob(32), randomblob(16), i % 50, randomblob(16), 'shop', 100, 4000000000 + i, 4000000000 + i, randomblob(16), i, 0 FROM n`, others); err != nil {
		t.Fatal(err)
	}
	frames := func(mode string) int {
		t.Helper()
		var busy, log, done int
		if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &log, &done); err != nil || busy != 0 {
			t.Fatalf("checkpoint %s: busy %d, %v", mode, busy, err)
		}
		return log
	}
	frames("TRUNCATE")
	for _, d := range []*ledgertest.Device{m, a} {
		if _, err := svc.Sync(ctx, d.UploadAll()); err != nil {
			t.Fatal(err)
		}
	}
	var open int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM open_sales`).Scan(&open); err != nil || open != others+100 {
		t.Fatalf("%d open sales, want %d: %v", open, others+100, err)
	}
	return frames("PASSIVE")
}
