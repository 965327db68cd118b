package server

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// TestOutboxEndpoints: the administrator lists the bank notifications
// (filters, pages) and resends one; bad parameters are refused and
// change nothing; without an outbox, and without the token, nothing.
func TestOutboxEndpoints(t *testing.T) {
	svc, _ := realLedger(t)
	h := newHarness(t, svc, Options{Outbox: svc})
	ctx := context.Background()
	if _, err := svc.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"d1", "d2", "d3"} {
		if _, err := svc.Deposit(ctx, "alice", 100, ref); err != nil {
			t.Fatal(err)
		}
	}
	var page ledger.OutboxPage
	get := func(q string) *ledger.OutboxPage {
		t.Helper()
		w := h.admin("GET", "/v1/admin/outbox?"+q, nil)
		if w.Code != 200 {
			t.Fatalf("GET ?%s: %d %s", q, w.Code, w.Body)
		}
		page = ledger.OutboxPage{}
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		return &page
	}
	p := get("account=alice&limit=2")
	if len(p.Notifications) != 2 || p.Next == "" || p.Notifications[0].Seq != 1 || p.Notifications[0].State != ledger.OutboxPending {
		t.Fatalf("first page %+v", p)
	}
	p = get("account=alice&limit=2&after=" + url.QueryEscape(p.Next))
	if len(p.Notifications) != 1 || p.Next != "" || p.Notifications[0].Seq != 3 {
		t.Fatalf("second page %+v", p)
	}
	key := p.Notifications[0].IdempotencyKey
	from := url.QueryEscape(p.Notifications[0].CreatedAt.Format(time.RFC3339Nano))
	if p := get("from=" + from + "&kind=account_changed"); len(p.Notifications) != 1 {
		t.Fatalf("from %s: %+v", from, p)
	}
	for _, q := range []string{"state=lost", "limit=x", "from=yesterday", "color=red", "account=alice&account=bob", "after=zz", "account=a%2Fb"} {
		wantError(t, h.admin("GET", "/v1/admin/outbox?"+q, nil), 400, offpay.EINVALID, "")
	}
	wantError(t, h.admin("POST", "/v1/admin/outbox/resend", map[string]any{}), 400, offpay.EINVALID, "")
	wantError(t, h.admin("POST", "/v1/admin/outbox/resend", map[string]any{"key": key, "colour": 1}), 400, offpay.EINVALID, "")
	wantError(t, h.admin("POST", "/v1/admin/outbox/resend", ResendRequest{From: "yesterday", To: "today"}), 400, offpay.EINVALID, "")
	all := ResendRequest{Account: "alice", From: "2000-01-01T00:00:00Z", To: "2100-01-01T00:00:00Z"}
	if w := h.admin("POST", "/v1/admin/outbox/resend", all); w.Code != 200 || !strings.Contains(w.Body.String(), `"resent":3`) {
		t.Fatalf("resend of a range: %d %s", w.Code, w.Body)
	}
	w := h.admin("POST", "/v1/admin/outbox/resend", ResendRequest{Key: key})
	var res ResendResult
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &res) != nil || res.Resent != 1 {
		t.Fatalf("resend: %d %s", w.Code, w.Body)
	}
	if w := h.do("GET", "/v1/admin/outbox", "", "", nil); w.Code != 401 {
		t.Fatalf("without the token: %d", w.Code)
	}
	none := newHarness(t, svc, Options{})
	wantError(t, none.admin("GET", "/v1/admin/outbox", nil), 404, offpay.ENOTFOUND, "")
}
