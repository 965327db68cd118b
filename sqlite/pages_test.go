package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

// TestUploadWritesAsManyPagesInALargeStore: settling a shop's upload of
// 100 sales writes about as many database pages (WAL frames) into a store
// already holding 30,000 open sales of other payers as into one holding
// 1,000, made at the same times. A sale's hold is kept by its payer's
// key, and indexed by the hour its window closes and it goes stale, so
// one upload's sales share pages; kept by the sale's ID (a hash), or
// indexed by the exact second, each would dirty a page of its own in an
// index that grows with the store, and the cost of a payment with it
// (README "Settlement cost as the store grows").
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
	sqlite.TightDisk(t) // the WAL counts every frame since the TRUNCATE below
	path, _, svc, a, m := payerAndShopOnSQLite(t, "pages")
	// The sales of the last minutes (a payer's clock dates each), two
	// seconds apart; others' sales below are of the same minutes.
	now := time.Now().Unix()
	for i := range 100 {
		a.Time = uint64(now - 250 + 2*int64(i))
		m.Receive(a.Pay(m.ID, 100))
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Other shops' sales from other payers, made in the same minutes as
	// these (as after an outage, when every device uploads the same hours
	// of sales): their refund windows close, and their holds go stale
	// (window + the till's offline days), at the same times.
	closes := now - 300 + int64(protocol.RefundWindow)
	stale := closes + int64(m.Cert.Limits.MaxOfflineDays)*24*3600
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO open_sales (pid, payer, counter, device, account, amount, closes, stale, src_device, src_counter, released)
		SELECT randomblob(32), randomblob(16), i % 50, randomblob(16), 'shop', 100, ? + i % 300, ? + i % 300, randomblob(16), i, 0 FROM n`,
		others, closes, stale); err != nil {
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

// payerAndShopOnSQLite is a ledger on a new SQLite file (its path
// returned) with ledgertest.PayerAndShop's payer, 50,000 in its purse,
// and shop; the store closes when t ends.
func payerAndShopOnSQLite(t *testing.T, label string) (path string, st *sqlite.Store, svc *ledger.Service, a, m *ledgertest.Device) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	path = filepath.Join(dir, "l.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc = ledger.New(st, keys, ledger.Options{})
	if a, m, err = ledgertest.PayerAndShop(ctx, svc, label, 50000); err != nil {
		t.Fatal(err)
	}
	return path, st, svc, a, m
}
