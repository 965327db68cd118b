package vse_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
)

// TestClaimWindowEdge: a payee whose ledger floor is ClaimWindow or more
// past a payment's time refuses it, changing nothing; one second less and
// it is accepted.
func TestClaimWindowEdge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	w := protocol.ClaimWindow
	r1, err := f.b.NewRequest(se.RequestParams{Amount: 100, Expiry: now + w + 3600}, now)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := f.b.NewRequest(se.RequestParams{Amount: 100, Expiry: now + w + 3600}, now)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := f.a.Pay(r1, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := f.a.Pay(r2, 0, now)
	if err != nil || b1.Payment.Time != now || b2.Payment.Time != now {
		t.Fatalf("pay: %v", err)
	}
	// Floor one second short of the window: still claimable.
	if err := f.b.ApplySyncResult(syncResult(f.pki, f.b.ID(), 0, now+w-1)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.Receive(b1, now); err != nil {
		t.Fatalf("one second inside the window: %v", err)
	}
	// Floor at Time + ClaimWindow: too old to claim.
	if err := f.b.ApplySyncResult(syncResult(f.pki, f.b.ID(), 0, now+w)); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrClaimExpired, func() error { _, err := f.b.Receive(b2, now); return err }, f.b)
	if st := status(t, f.b); st.LedgerFloor != now+w || st.Balance != 100 {
		t.Fatalf("payee %+v", st)
	}
}

// TestStandingRequest: the payer-presented flow. A payee's standing card
// is paid many times by one payer; each payment is accepted once.
func TestStandingRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	saved := snapshot(t, f.dirB)
	card, err := f.b.StandingRequest(se.RequestParams{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if card.Nonce != (protocol.Nonce{}) || card.Amount != 0 || card.Expiry != f.b.Certificate().NotAfter || card.Verify() != nil {
		t.Fatalf("card %+v", card)
	}
	if !status(t, f.b).Standing {
		t.Fatal("status does not show the standing request")
	}
	if _, err := f.b.StandingRequest(se.RequestParams{Amount: 5}, now); !errors.Is(err, se.ErrBadRequest) {
		t.Fatalf("standing request with an amount: %v", err)
	}
	// The payer pays the same card twice, before either receipt is back:
	// no "already paid this request".
	p1, err := f.a.Pay(card, 120, now)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f.a.Pay(card, 80, now)
	if err != nil {
		t.Fatalf("second payment to the card: %v", err)
	}
	if p1.Payment.Nonce != (protocol.Nonce{}) || p1.Payment.Counter == p2.Payment.Counter {
		t.Fatal("payments share a counter")
	}
	// An open card needs the payer's amount.
	refused(t, se.ErrBadRequest, func() error { _, err := f.a.Pay(card, 0, now); return err }, f.a)
	for _, b := range []*protocol.PaymentBundle{p1, p2} {
		rc, err := f.b.Receive(b, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.a.ConfirmReceipt(rc, now); err != nil {
			t.Fatal(err)
		}
	}
	if st := status(t, f.b); st.Balance != 200 {
		t.Fatalf("payee balance %d", st.Balance)
	}
	// A photographed payment QR presented again: refused, after a reopen
	// too.
	refused(t, se.ErrAlreadyAccepted, func() error { _, err := f.b.Receive(p1, now); return err }, f.b)
	b := setest.Open(t, f.dirB, nil)
	refused(t, se.ErrAlreadyAccepted, func() error { _, err := b.Receive(p2, now+60); return err }, b)
	// A wallet clock set forward does not shorten the dedupe memory: it
	// lasts until the ledger floor, not the clock, passes the window.
	refused(t, se.ErrAlreadyAccepted, func() error { _, err := b.Receive(p2, now+6*day); return err }, b)
	// Once the ledger floor passes the claim window the dedupe entry is
	// gone, and the claim-window check refuses the replay instead.
	if err := b.ApplySyncResult(syncResult(f.pki, b.ID(), 0, now+protocol.ClaimWindow)); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrClaimExpired, func() error { _, err := b.Receive(p2, now); return err }, b)
	// The same SE before it issued the card accepts no zero-nonce payment.
	restoreExact(t, f.dirB, saved)
	old := setest.Open(t, f.dirB, nil)
	refused(t, se.ErrNonceUnknown, func() error { _, err := old.Receive(p1, now); return err }, old)
}
