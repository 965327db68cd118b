package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// testRevocation: an administrator revokes a lost device. The list is
// re-issued at once and re-signed when it grows old; payments the device
// made before are honoured; its account stays usable.
func testRevocation(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a, m := e.Device("rv-a", "alice"), e.Device("rv-m", "shop")
	e.Load(a, 100)
	m.Receive(a.Pay(m.ID, 40))
	rl0, err := e.Svc.RevocationList(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Revoke(e.Ctx, a.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.Revoke(e.Ctx, a.ID, "lost"); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	Code(t, e.Svc.Revoke(e.Ctx, e.newDev("rv-x").ID, "x"), offpay.ENOTFOUND)
	rl1, err := e.Svc.RevocationList(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, issuer := e.Svc.Trust()
	if rl1.Number <= rl0.Number || !rl1.IsRevoked(a.ID) || rl1.Verify(issuer) != nil {
		t.Fatalf("list after revocation: %+v (before %d)", rl1, rl0.Number)
	}
	// Refused with the protocol's revoked class, so clients can tell.
	_, err = e.Svc.Reserve(e.Ctx, a.Reserve(10, 77))
	Code(t, err, offpay.EFORBIDDEN)
	if !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("reserve by a revoked device: %v has no revoked class", err)
	}
	_, err = e.Svc.Sync(e.Ctx, a.UploadAll())
	Code(t, err, offpay.EFORBIDDEN)
	if protocol.ClassOf(err) != protocol.ClassRevoked {
		t.Fatalf("sync by a revoked device: %v has class %q", err, protocol.ClassOf(err))
	}
	_, err = e.Svc.Enrol(e.Ctx, a.Enrolment("alice"))
	if !errors.Is(err, protocol.ErrRevoked) {
		t.Fatalf("enrolment of a revoked device: %v", err)
	}
	// Accepted offline before the list reached the shop: honoured.
	e.SyncAll(m)
	if got := e.Balance("shop"); got != 40 {
		t.Fatalf("shop %d", got)
	}
	if _, err := e.Svc.Withdraw(e.Ctx, "alice", 100, "w"); err != nil {
		t.Fatalf("account of a revoked (not fraudulent) device frozen: %v", err)
	}
	// The list is re-signed once older than RevocationEvery.
	e.Advance(2 * time.Hour)
	res := e.SyncAll(m)
	if res.RevList.Number <= rl1.Number || int64(res.RevList.Issued) != e.Now().Unix() || !res.RevList.IsRevoked(a.ID) {
		t.Fatalf("stale list not re-signed: %+v", res.RevList)
	}
	rl2, _ := e.Svc.RevocationList(e.Ctx)
	if rl2.Number != res.RevList.Number {
		t.Fatalf("list re-signed again while fresh: %d then %d", res.RevList.Number, rl2.Number)
	}
	// The operator carries the revoked purse's value until the device
	// is recovered: the report shows it as outstanding.
	if d := e.Dev(a); d.Status != "revoked" || d.Position != 60 {
		t.Fatalf("revoked device %+v", d)
	}
}

// testOutbox: notifications are written with the change, claimed oldest
// first under a lease, retried after failure and never lost.
func testOutbox(t *testing.T, open Opener) {
	e := NewEnv(t, open)
	e.Account("alice", false, 1000)
	e.Account("shop", true, 0)
	a, m := e.Device("ob-a", "alice"), e.Device("ob-m", "shop")
	e.Load(a, 100)
	p := a.Pay(m.ID, 40)
	e.SyncAll(a)
	m.Receive(p)
	e.SyncAll(m) // no second notification for the same payment
	ns, err := e.Svc.ClaimNotifications(e.Ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	keys := map[string]bool{}
	for i, n := range ns {
		kinds[n.Kind]++
		if keys[n.IdempotencyKey] {
			t.Fatalf("idempotency key %q twice", n.IdempotencyKey)
		}
		keys[n.IdempotencyKey] = true
		if i > 0 && n.CreatedAt.Before(ns[i-1].CreatedAt) {
			t.Fatalf("not oldest first")
		}
		if n.Attempts != 1 || !json.Valid(n.Payload) {
			t.Fatalf("notification %+v", n)
		}
	}
	// deposit, reserve, shop's settle_in: three account changes; one settlement.
	if kinds[ledger.NoteAccountChanged] != 3 || kinds[ledger.NotePaymentSettled] != 1 {
		t.Fatalf("kinds %v", kinds)
	}
	var settled struct {
		Payments []struct {
			PaymentID    string `json:"payment_id"`
			Amount       int64  `json:"amount_minor"`
			PayeeAccount string `json:"payee_account"`
		} `json:"payments"`
	}
	for _, n := range ns {
		if n.Kind == ledger.NotePaymentSettled {
			if err := json.Unmarshal(n.Payload, &settled); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(settled.Payments) != 1 || settled.Payments[0].PaymentID != p.Payment.ID().String() || settled.Payments[0].Amount != 40 || settled.Payments[0].PayeeAccount != "shop" {
		t.Fatalf("settled payload %+v", settled)
	}
	// Leased: nobody else gets them.
	if again, _ := e.Svc.ClaimNotifications(e.Ctx, 100); len(again) != 0 {
		t.Fatalf("leased notifications claimed again: %d", len(again))
	}
	for _, n := range ns[1:] {
		if err := e.Svc.MarkDelivered(e.Ctx, n.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Svc.MarkFailed(e.Ctx, ns[0].ID, e.Now().Add(time.Minute), "503"); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.Svc.ClaimNotifications(e.Ctx, 100); len(again) != 0 {
		t.Fatalf("failed notification retried before its time")
	}
	e.Advance(2 * time.Minute)
	again, err := e.Svc.ClaimNotifications(e.Ctx, 100)
	if err != nil || len(again) != 1 || again[0].ID != ns[0].ID || again[0].Attempts != 2 {
		t.Fatalf("retry: %v %+v", err, again)
	}
	// A deliverer that dies holding a lease: the lease expires.
	e.Advance(2 * time.Minute)
	again, _ = e.Svc.ClaimNotifications(e.Ctx, 100)
	if len(again) != 1 || again[0].Attempts != 3 {
		t.Fatalf("expired lease: %+v", again)
	}
	if err := e.Svc.MarkDelivered(e.Ctx, again[0].ID); err != nil {
		t.Fatal(err)
	}
	e.Advance(time.Hour)
	if rest, _ := e.Svc.ClaimNotifications(e.Ctx, 100); len(rest) != 0 {
		t.Fatalf("delivered notifications came back: %+v", rest)
	}
	Code(t, e.Svc.MarkDelivered(e.Ctx, 12345), offpay.ENOTFOUND)
	Code(t, e.Svc.MarkFailed(e.Ctx, 12345, e.Now(), "x"), offpay.ENOTFOUND)
	_, err = e.Svc.ClaimNotifications(e.Ctx, 0)
	Code(t, err, offpay.EINVALID)
}
