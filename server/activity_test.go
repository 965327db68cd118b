package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/server/servertest"
)

// TestActivityEndpoint: GET /v1/admin/activity serves the ledger's chart
// of payments (storetest's Activity scenario checks the figures): behind
// the token, a day of hours by default, the range and step asked for,
// and bad parameters refused in JSON.
func TestActivityEndpoint(t *testing.T) {
	svc, _ := realLedger(t)
	h := newHarness(t, svc, Options{})
	wantError(t, h.do("GET", "/v1/admin/activity", "", "", nil), 401, offpay.EUNAUTHORIZED, "")
	w := h.admin("GET", "/v1/admin/activity", nil)
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("default: %d %s", w.Code, w.Body)
	}
	var a struct {
		From, To time.Time
		Step     int64 `json:"step_seconds"`
		Currency string
		Buckets  []struct {
			Start    time.Time
			Payments int64
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Buckets) != 24 || a.Step != 3600 || a.Currency != "EUR" || a.To.Sub(a.From) != 24*time.Hour ||
		a.To.Truncate(time.Hour) != a.To || time.Until(a.To) > time.Hour || time.Until(a.To) < 0 {
		t.Fatalf("default activity: %s", w.Body)
	}
	w = h.admin("GET", "/v1/admin/activity?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z&step=15m", nil)
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(a.Buckets) != 4 || a.Step != 900 || !a.Buckets[3].Start.Equal(time.Date(2026, 1, 1, 0, 45, 0, 0, time.UTC)) {
		t.Fatalf("an hour by quarters: %s", w.Body)
	}
	for _, q := range []string{"?step=1s", "?step=fast", "?from=yesterday", "?bucket=1h", "?step=1h&step=2h",
		"?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		wantError(t, h.admin("GET", "/v1/admin/activity"+q, nil), 400, offpay.EINVALID, "")
	}
	// A ledger that does not chart its activity says so.
	h = newHarness(t, servertest.NewLedger(), Options{})
	wantError(t, h.admin("GET", "/v1/admin/activity", nil), 404, offpay.ENOTFOUND, protocol.Class(""))
}

// TestActionsLogged: every action the console offers is logged with what
// it did, besides the access log line: a deposit (account, amount, ref,
// balance), a revocation (device, reason), an enrolment code issued and
// cancelled.
func TestActionsLogged(t *testing.T) {
	svc, _ := realLedger(t)
	h := newHarness(t, svc, Options{})
	if w := h.admin("POST", "/v1/admin/accounts", CreateAccountRequest{Name: "alice"}); w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if w := h.admin("POST", "/v1/admin/accounts/alice/deposit", MoveRequest{Amount: 1234, Ref: "bank-77"}); w.Code != 200 {
		t.Fatalf("deposit: %d %s", w.Code, w.Body)
	}
	d := ledgertest.NewDevice("logged", "EUR")
	if _, err := svc.Enrol(context.Background(), d.EnrolmentAt("alice", uint64(time.Now().Unix()))); err != nil {
		t.Fatal(err)
	}
	if w := h.admin("POST", "/v1/admin/devices/"+d.ID.String()+"/revoke", RevokeRequest{Reason: "stolen <b>phone</b>"}); w.Code != 204 {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	w := h.admin("POST", "/v1/admin/accounts/alice/codes", IssueCodeRequest{})
	var c struct{ ID string }
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 201 {
		t.Fatalf("code: %d %s", w.Code, w.Body)
	}
	if w := h.admin("POST", "/v1/admin/codes/"+c.ID+"/cancel", nil); w.Code != 204 {
		t.Fatalf("cancel: %d %s", w.Code, w.Body)
	}
	logs := h.logs.String()
	for _, want := range []string{
		`"msg":"deposit","account":"alice","amount_minor":1234,"ref":"bank-77","balance_minor":1234`,
		`"msg":"device revoked","device":"` + d.ID.String() + `","reason":"stolen <b>phone</b>"`,
		`"msg":"enrolment code issued","account":"alice","id":"` + c.ID + `"`,
		`"msg":"enrolment code cancelled","id":"` + c.ID + `"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("not logged: %s", want)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}
