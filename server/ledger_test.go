package server

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestReenterWithdrawal: POST /v1/admin/accounts/{name}/reenter-withdrawal
// is the ledger's ReenterWithdrawal. A cloned SE pays two payees with one
// counter: the proof freezes its account and recovers the overspend from
// the balance. A withdrawal (the withdraw endpoint) is refused; the same
// amount re-entered as paid out by the bank is taken, the recovery given
// back as a loss (storetest ReenterWithdrawalFrozen has the restore).
func TestReenterWithdrawal(t *testing.T) {
	svc, _ := realLedger(t)
	h := newHarness(t, svc, Options{})
	ctx := context.Background()
	now := uint64(time.Now().Unix())
	devs := map[string]*ledgertest.Device{}
	for _, name := range []string{"alice", "bob", "carol"} {
		if _, err := svc.CreateAccount(ctx, name, false); err != nil {
			t.Fatal(err)
		}
		d := ledgertest.NewDevice(name, "EUR")
		en, err := svc.Enrol(ctx, d.EnrolmentAt(name, now))
		if err != nil {
			t.Fatal(err)
		}
		d.Cert, devs[name] = en.Device, d
	}
	a, b, c := devs["alice"], devs["bob"], devs["carol"]
	if _, err := svc.Deposit(ctx, "alice", 150, "in-1"); err != nil {
		t.Fatal(err)
	}
	l, err := svc.Reserve(ctx, a.Reserve(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	a.ApplyLoad(l)
	a2 := a.Clone()
	b.Receive(a.Pay(b.ID, 80))
	c.Receive(a2.Pay(c.ID, 80))
	for _, d := range []*ledgertest.Device{b, c} {
		if _, err := svc.Sync(ctx, d.UploadAll()); err != nil {
			t.Fatal(err)
		}
	}
	if acc, err := svc.Account(ctx, "alice"); err != nil || !acc.Frozen || acc.Balance != 0 {
		t.Fatalf("alice after the proof: %+v %v", acc, err)
	}
	wantError(t, h.admin("POST", "/v1/admin/accounts/alice/withdraw", MoveRequest{Amount: 50, Ref: "bank-50"}), 403, offpay.EFORBIDDEN, "")
	wantError(t, h.admin("POST", "/v1/admin/accounts/alice/reenter-withdrawal", MoveRequest{Amount: 51, Ref: "bank-51"}), 422, offpay.ELIMIT, "")
	wantError(t, h.admin("POST", "/v1/admin/accounts/alice/reenter-withdrawal", MoveRequest{Amount: 0, Ref: "bank-0"}), 400, offpay.EINVALID, "")
	wantError(t, h.admin("POST", "/v1/admin/accounts/nobody/reenter-withdrawal", MoveRequest{Amount: 5, Ref: "bank-5"}), 404, offpay.ENOTFOUND, "")
	for range 2 {
		w := h.admin("POST", "/v1/admin/accounts/alice/reenter-withdrawal", MoveRequest{Amount: 50, Ref: "bank-50"})
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"balance_minor":0`) {
			t.Fatalf("re-entry: %d %s", w.Code, w.Body)
		}
	}
	r, err := svc.Report(ctx)
	if err != nil || !r.ConservationOK || r.Issued != 100 || r.Recovered != 0 || r.Losses != 60 {
		t.Fatalf("report after the re-entry: %+v %v", r, err)
	}
	if !strings.Contains(h.logs.String(), "withdrawal re-entered") {
		t.Fatalf("the re-entry is not on record:\n%s", h.logs)
	}
}
