package vse_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
)

// TestPayingARequestAgain: a request paid before, pending or confirmed,
// paid again gives the same signed payment, byte for byte, and debits
// nothing (a payer re-showing a lost payment code, or retrying a command);
// an open request paid again with another amount is refused.
func TestPayingARequestAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	r := request(t, f.b, 1200)
	first, err := f.a.Pay(r, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, amount uint64) {
		t.Helper()
		before := status(t, f.a)
		again, err := f.a.Pay(r, amount, now)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !bytes.Equal(again.Marshal(), first.Marshal()) {
			t.Fatalf("%s: another payment (counter %d, first %d)", what, again.Payment.Counter, first.Payment.Counter)
		}
		if after := status(t, f.a); after != before {
			t.Fatalf("%s changed the SE:\nbefore %+v\nafter  %+v", what, before, after)
		}
	}
	same("pending", 0)
	same("pending, the amount named", 1200)
	rc, err := f.b.Receive(first, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.ConfirmReceipt(rc, now); err != nil {
		t.Fatal(err)
	}
	same("confirmed", 0)
	f.a = setest.Open(t, f.dirA, nil)
	same("after a restart", 0)
	if st := status(t, f.a); st.Balance != 3800 || st.PendingCount != 0 {
		t.Fatalf("balance %d, %d pending", st.Balance, st.PendingCount)
	}
	// The payee takes the payment once, however often it is shown.
	if _, err := f.b.Receive(first, now); !errors.Is(err, se.ErrAlreadyAccepted) {
		t.Fatalf("second presentation: %v", err)
	}

	// An open request: the same amount (or none) shows the payment again,
	// another amount is refused and changes nothing.
	open := request(t, f.b, 0)
	o1, err := f.a.Pay(open, 700, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, amt := range []uint64{0, 700} {
		o2, err := f.a.Pay(open, amt, now)
		if err != nil || !bytes.Equal(o2.Marshal(), o1.Marshal()) {
			t.Fatalf("open request again with %d: %v", amt, err)
		}
	}
	refused(t, se.ErrNonceUsed, func() error { _, err := f.a.Pay(open, 800, now); return err }, f.a)

	// Once the request has expired, paying it is refused as expired: no
	// new payment.
	late := r.Expiry + 2*3600
	if _, err := f.a.Pay(r, 0, late); !errors.Is(err, se.ErrExpired) && !errors.Is(err, protocol.ErrExpired) {
		t.Fatalf("expired request: %v", err)
	}
}
