package recoverytest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
)

// fill writes a file in dir until the file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// TestLedgerOnAFullDisk (recovery finding 3): the ledger's database on a
// real file system that fills up (a 4 MiB tmpfs). An upload that cannot be
// written is answered 503 "unavailable", which the client reports as
// "try again later" (a wallet exits 3), /readyz fails, and nothing is
// half applied; once space is freed the same upload settles, once.
func TestLedgerOnAFullDisk(t *testing.T) {
	dir := tmpfs(t, "4m")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, ledgerDB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys, err := ledger.Init(filepath.Join(t.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{})
	srv := httptest.NewServer(server.New(svc, server.Options{AdminToken: "op", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ClientRateLimit: server.RateLimit{Disabled: true}}))
	t.Cleanup(srv.Close)
	lc, err := ledgerclient.New(srv.URL, ledgerclient.Options{AdminToken: "op", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	a, m, err := ledgertest.PayerAndShop(ctx, svc, "disk", 50000)
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		m.Receive(a.Pay(m.ID, 100))
	}
	before, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	filler := fill(t, dir)
	_, err = lc.Sync(ctx, a.UploadAll())
	var ae *ledgerclient.APIError
	if !errors.As(err, &ae) || ae.Code != offpay.EUNAVAILABLE || ae.Status != http.StatusServiceUnavailable || !errors.Is(err, ledgerclient.ErrUnreachable) {
		t.Fatalf("upload on a full disk: %v", err)
	}
	if resp, err := http.Get(srv.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz on a full disk: %v %v", resp, err)
	}
	if r, err := svc.Report(ctx); err != nil || r.Settled != before.Settled || r.Issued != before.Issued || !r.ConservationOK {
		t.Fatalf("half applied on a full disk: %+v %v", r, err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(srv.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz once space is freed: %v %v", resp, err)
	}
	if _, err := lc.Sync(ctx, a.UploadAll()); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Sync(ctx, m.UploadAll()); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Report(ctx)
	if err != nil || !r.ConservationOK || r.Settled != 300 {
		t.Fatalf("after the disk was freed: %+v %v", r, err)
	}
}

const ledgerDB = "ledger.db"
