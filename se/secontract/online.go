package secontract

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// PayOnline: the SE checks a request as Pay does and signs an
// OnlinePayment the ledger verifies against the payer's certificate; it
// keeps no state and the purse does not move (the ledger debits the
// account). A request already paid from the purse, a standing request,
// an expired one, another amount and a tampered request are refused.
func testPayOnline(t *testing.T, f Factory) {
	p := newPKI("contract")
	d := f(t)
	p.enrol(t, d.SE, "alice")
	a, b := d.SE, p.device(t, f, "bob")
	p.load(t, a, 5000)
	r := request(t, b, 1200)
	before := status(t, a)
	op, err := a.PayOnline(r, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	if after := status(t, a); after != before {
		t.Fatalf("PayOnline changed the SE:\nbefore %+v\nafter  %+v", before, after)
	}
	if err := op.Verify(a.Certificate()); err != nil {
		t.Fatalf("the online payment does not verify with the payer's certificate: %v", err)
	}
	if op.Amount != 1200 || op.Currency != a.Certificate().Currency || !bytes.Equal(op.Request.Marshal(), r.Marshal()) {
		t.Fatalf("online payment %d %s for another request", op.Amount, op.Currency)
	}
	if err := op.Verify(b.Certificate()); err == nil {
		t.Fatal("the online payment verifies with another device's certificate")
	}
	// The same request again: the same payment terms (the ledger answers
	// it with the same receipt), still nothing moved.
	again, err := a.PayOnline(r, 0, now)
	if err != nil || again.Amount != op.Amount || again.Request.Nonce != op.Request.Nonce {
		t.Fatalf("paying online again: %v", err)
	}
	refused(t, se.ErrAmountMismatch, func() error { _, err := a.PayOnline(r, 1300, now); return err }, a)
	refused(t, se.ErrExpired, func() error { _, err := a.PayOnline(r, 0, r.Expiry); return err }, a)
	bad := *r
	bad.Amount = 12
	refused(t, protocol.ErrBadSignature, func() error { _, err := a.PayOnline(&bad, 0, now); return err }, a)
	card, err := b.StandingRequest(se.RequestParams{}, now)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrBadRequest, func() error { _, err := a.PayOnline(card, 100, now); return err }, a)
	// Paid from the purse first: paying it online too is refused.
	r2 := request(t, b, 300)
	mustPay(t, a, r2)
	refused(t, se.ErrNonceUsed, func() error { _, err := a.PayOnline(r2, 0, now); return err }, a)
}
