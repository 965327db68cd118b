package wallet

import (
	"errors"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Request makes a payment request for amount (0: the payer chooses),
// valid for ttl, and returns its envelope.
func (w *Wallet) Request(amount uint64, name string, ttl time.Duration) ([]byte, error) {
	return w.RequestWith(se.RequestParams{Amount: amount, Name: name}, ttl)
}

// RequestWith is Request with a channel key and pairing secret for a
// proximity channel.
func (w *Wallet) RequestWith(p se.RequestParams, ttl time.Duration) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock()
	// Count the validity from the SE's clock: it may be ahead of this
	// device's (a ledger time seen from a faster clock), and a request
	// must not be born expired.
	st, err := w.se.Status(now)
	if err != nil {
		return nil, err
	}
	p.Expiry = max(now, st.Clock) + uint64(ttl/time.Second)
	r, err := w.se.NewRequest(p, now)
	if err != nil {
		return nil, err
	}
	return protocol.Seal(r), nil
}

// StandingRequest returns the envelope of this payee's standing request:
// open (the payer chooses the amount), valid until the device certificate
// expires, payable any number of times. Print it, or show it at the till;
// a payer pays it with Pay(card, amount) and the payee takes the bundle
// with Accept. Each bundle is accepted once.
func (w *Wallet) StandingRequest(name string) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, err := w.se.StandingRequest(se.RequestParams{Name: name}, w.clock())
	if err != nil {
		return nil, err
	}
	return protocol.Seal(r), nil
}

// Pay pays the request in reqWire (amount only for an open request) and
// returns the bundle's envelope to hand to the payee. The request's
// signature is checked here and again, with the payee's certificate chain
// and revocation, inside the SE: an unverified payee is never paid.
func (w *Wallet) Pay(reqWire []byte, amount uint64) ([]byte, error) {
	var r protocol.PaymentRequest
	if err := protocol.OpenAs(reqWire, &r); err != nil {
		return nil, err
	}
	if err := r.Verify(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	b, err := w.se.Pay(&r, amount, w.clock())
	if err != nil {
		return nil, err
	}
	if err := w.fold(); err != nil {
		return nil, err
	}
	return protocol.Seal(b), nil
}

// Accept verifies and countersigns a payment (inside the SE) and returns
// the receipt's envelope for the payer. A refused payment that could be
// parsed is kept in the history as rejected, with the reason.
func (w *Wallet) Accept(bundleWire []byte) ([]byte, error) {
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(bundleWire, &b); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	rc, err := w.se.Receive(&b, w.clock())
	if err != nil {
		if w.h.rejected() >= maxRejected {
			return nil, err // a flood of bad payments must not grow the history
		}
		w.h.add(Record{
			ID: b.Payment.ID().String(), Kind: KindReceive, Amount: b.Payment.Amount,
			Counterparty: b.Payment.Payer.String(), Time: w.clock(), State: Rejected, Reason: err.Error(),
		})
		if serr := w.save(); serr != nil {
			return nil, errors.Join(err, serr)
		}
		return nil, err
	}
	if err := w.fold(); err != nil {
		return nil, err
	}
	wire := protocol.Seal(rc)
	// Keep the receipt, on disk before the payer can see it, so that a
	// retry of this payment gets it again (AcceptRetry).
	if r := w.h.get(b.Payment.ID().String()); r != nil && r.Kind == KindReceive {
		r.Receipt = wire
		if err := w.save(); err != nil {
			return nil, err
		}
	}
	return wire, nil
}

// AcceptRetry is Accept for a transport that retries after a drop: a
// bundle whose payment this wallet accepted before is answered with the
// receipt it issued then, byte for byte, and repeat is true; nothing is
// credited again. The SE has checked the bundle (signature, certificate
// chain, revocation) before it reports the payment as already accepted,
// and the payment ID covers the whole signed payment, so a different
// payment with the same payer counter is refused (se.ErrAlreadyAccepted)
// as Accept refuses it. A payment whose receipt is no longer held (the
// record was archived after settlement, or a crash came between the SE's
// answer and the history's save) is refused likewise; it settles at sync.
//
// Accept itself refuses a repeat, so that a person re-scanning a payment
// code is told that it was already received.
func (w *Wallet) AcceptRetry(bundleWire []byte) (receipt []byte, repeat bool, err error) {
	rc, err := w.Accept(bundleWire)
	if err == nil || !errors.Is(err, se.ErrAlreadyAccepted) {
		return rc, false, err
	}
	var b protocol.PaymentBundle
	if oerr := protocol.OpenAs(bundleWire, &b); oerr != nil {
		return nil, false, err
	}
	stored, ok := w.Receipt(b.Payment.ID())
	if !ok {
		return nil, false, err
	}
	return stored, true, nil
}

// Receipt returns the receipt envelope this wallet issued for the payment
// id it received, while the history holds it (see AcceptRetry).
func (w *Wallet) Receipt(id protocol.Hash) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.h.get(id.String())
	if r == nil || r.Kind != KindReceive || r.State == Rejected || len(r.Receipt) == 0 {
		return nil, false
	}
	return append([]byte(nil), r.Receipt...), true
}

// Confirm records the payee's receipt. Confirming twice is not an error.
func (w *Wallet) Confirm(receiptWire []byte) error {
	var rc protocol.Receipt
	if err := protocol.OpenAs(receiptWire, &rc); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.se.ConfirmReceipt(&rc, w.clock()); err != nil {
		if r := w.h.get(rc.Payment.String()); errors.Is(err, se.ErrUnknownPayment) && r != nil && r.Kind == KindPay && r.State != Pending {
			return nil
		}
		return err
	}
	return w.fold()
}

// Resend returns the bundle of a payment still awaiting its receipt, so
// that a payer whose transfer was torn can present it again. The payee's
// SE accepts a payment once, so resending never pays twice; the payee's
// AcceptRetry answers it with the receipt it issued, Accept refuses it.
func (w *Wallet) Resend(paymentID protocol.Hash) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ps, err := w.se.Pending()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.ID != paymentID {
			continue
		}
		es, err := w.se.Log(p.Counter)
		if err != nil || len(es) == 0 || es[0].Counter != p.Counter {
			return nil, se.Errorf(se.CodeUnknownPayment, "log entry %d no longer held", p.Counter)
		}
		var pay protocol.Payment
		if err := protocol.Unmarshal(es[0].Body, &pay); err != nil {
			return nil, err
		}
		return protocol.Seal(&protocol.PaymentBundle{Payment: pay, Cert: *w.se.Certificate()}), nil
	}
	return nil, se.Errorf(se.CodeUnknownPayment, "no pending payment %v", paymentID)
}
