package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
)

// testEnrolmentCodes: a device enrols itself with a one-time code the
// operator issued for its account: once (the same key again gets the same
// certificate), for that account only, before it expires, unless it was
// cancelled. Every refusal is the same answer and changes nothing; only
// the code's hash is stored.
func testEnrolmentCodes(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 0)
	e.Account("bob", false, 0)
	code, err := e.Svc.IssueCode(e.Ctx, "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(code.Code) != 23 || code.Status != "open" || code.Account != "alice" {
		t.Fatalf("code %+v", code)
	}
	if _, err := e.Svc.IssueCode(e.Ctx, "nobody", 0); offpay.ErrorCode(err) != offpay.ENOTFOUND {
		t.Fatalf("code for a missing account: %v", err)
	}
	a, b, m := e.newDev("code-a"), e.newDev("code-b"), e.newDev("code-m")
	// Wrong account, wrong code: refused, nothing used.
	_, err = e.Svc.EnrolWithCode(e.Ctx, e.enrolment(b, "bob"), code.Code)
	Code(t, err, offpay.EUNAUTHORIZED)
	_, err = e.Svc.EnrolWithCode(e.Ctx, e.enrolment(a, "alice"), "0000-0000")
	Code(t, err, offpay.EUNAUTHORIZED)
	// Typed loosely (lower case, O for 0, no dashes): the same code.
	typed := strings.ReplaceAll(strings.ToLower(code.Code), "-", "")
	typed = strings.ReplaceAll(typed, "0", "o")
	en, err := e.Svc.EnrolWithCode(e.Ctx, e.enrolment(a, "alice"), typed)
	if err != nil || en.Device.Account != "alice" {
		t.Fatalf("enrol with the code: %v", err)
	}
	again, err := e.Svc.EnrolWithCode(e.Ctx, e.enrolment(a, "alice"), code.Code)
	if err != nil || again.Device.Serial != en.Device.Serial {
		t.Fatalf("the same device again: %v", err)
	}
	_, err = e.Svc.EnrolWithCode(e.Ctx, e.enrolment(m, "alice"), code.Code)
	Code(t, err, offpay.EUNAUTHORIZED) // used
	expiring, err := e.Svc.IssueCode(e.Ctx, "bob", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := e.Svc.IssueCode(e.Ctx, "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.CancelCode(e.Ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	e.Advance(2 * time.Minute)
	_, err = e.Svc.EnrolWithCode(e.Ctx, e.enrolment(b, "bob"), expiring.Code)
	Code(t, err, offpay.EUNAUTHORIZED)
	_, err = e.Svc.EnrolWithCode(e.Ctx, e.enrolment(b, "bob"), cancelled.Code)
	Code(t, err, offpay.EUNAUTHORIZED)
	if err := e.Svc.CancelCode(e.Ctx, code.ID); offpay.ErrorCode(err) != offpay.ECONFLICT {
		t.Fatalf("cancelling a used code: %v", err)
	}
	list, err := e.Svc.Codes(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range list {
		if c.Code != "" {
			t.Fatalf("a listed code shows its secret")
		}
		got[c.ID] = c.Status
	}
	want := map[string]string{code.ID: "used", expiring.ID: "expired", cancelled.ID: "cancelled"}
	for id, st := range want {
		if got[id] != st {
			t.Fatalf("code %s: %q, want %q (%v)", id, got[id], st, got)
		}
	}
	if r := e.Conserved(); len(r.Devices) != 1 || r.Devices[0].Account != "alice" {
		t.Fatalf("devices %+v", r.Devices)
	}
	_ = ledger.DefaultCodeTTL
}
