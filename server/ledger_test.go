package server

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

func realLedger(t testing.TB) (*ledger.Service, *sqlite.Store) {
	t.Helper()
	dir := t.TempDir()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return ledger.New(st, keys, ledger.Options{}), st
}

// TestRealLedgerErrors maps the real service's errors through the table,
// and checks that a failing database reaches clients only as "internal
// error" while its text goes to the log.
func TestRealLedgerErrors(t *testing.T) {
	svc, st := realLedger(t)
	h := newHarness(t, svc, Options{})
	if w := h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"}); w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	wantError(t, h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"}), 409, offpay.ECONFLICT, "")
	wantError(t, h.admin("POST", "/v1/admin/accounts/bob/deposit", MoveRequest{Amount: 5, Ref: "r-1"}), 404, offpay.ENOTFOUND, "")
	wantError(t, h.admin("POST", "/v1/admin/accounts/alice/withdraw", MoveRequest{Amount: 5, Ref: "r-1"}), 422, offpay.ELIMIT, "")
	wantError(t, h.device("/v1/reserve", ledgertest.NewDevice("x", "EUR").Reserve(5, 1)), 401, offpay.EUNAUTHORIZED, "")
	wantError(t, h.admin("POST", "/v1/admin/devices/"+protocol.KeyID{7}.String()+"/revoke", RevokeRequest{Reason: "lost"}), 404, offpay.ENOTFOUND, "")

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/admin/report", "/v1/admin/accounts/alice", "/v1/admin/accounts/alice/statement"} {
		w := h.admin("GET", path, nil)
		d := wantError(t, w, 500, offpay.EINTERNAL, "")
		body := strings.ToLower(w.Body.String())
		if d.Message != "internal error" || strings.Contains(body, "sql") || strings.Contains(body, "database") || strings.Contains(body, "closed") {
			t.Fatalf("%s: database text reached the client: %s", path, w.Body)
		}
	}
	wantError(t, h.admin("POST", "/v1/admin/accounts/alice/deposit", MoveRequest{Amount: 5, Ref: "r-1"}), 500, offpay.EINTERNAL, "")
	if !strings.Contains(h.logs.String(), "closed") {
		t.Fatalf("the database failure was not logged:\n%s", h.logs)
	}
}
