package wallet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Request makes a payment request for amount (0: the payer chooses),
// valid for ttl, and returns its envelope. The payer is shown the name
// the payee's certificate carries (protocol.Certificate.DisplayName); the
// request claims none of its own.
func (w *Wallet) Request(amount uint64, ttl time.Duration) ([]byte, error) {
	return w.RequestWith(se.RequestParams{Amount: amount}, ttl)
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
func (w *Wallet) StandingRequest() ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, err := w.se.StandingRequest(se.RequestParams{}, w.clock())
	if err != nil {
		return nil, err
	}
	return protocol.Seal(r), nil
}

// Payee is whom a request asks to be paid, as the issuer certified it:
// what a payer is shown before its SE signs.
type Payee struct {
	Kind     protocol.Kind  // person or merchant
	Name     string         // a merchant's certified name, a person's account reference
	Account  string         // the certified account reference
	Device   protocol.KeyID // the payee's device
	Amount   uint64         // asked for (an open request: what the payer offers; 0 before it does)
	Currency string
	Expiry   time.Time
	Standing bool // a standing request (payee card): payable any number of times
}

// String is the line a payer reads: `merchant "Corner Shop" (account
// shop)` or `person alice`.
func (p Payee) String() string {
	if p.Kind == protocol.KindMerchant {
		return fmt.Sprintf("merchant %q (account %s)", p.Name, p.Account)
	}
	return "person " + p.Account
}

// DescribeRequest decodes a request and checks its signature under the
// certificate it carries, and returns the payee that certificate names. A
// request claiming a name other than the certified one does not decode
// (protocol section 7.4). The certificate's chain and revocation are
// checked by the SE when it pays.
func DescribeRequest(reqWire []byte) (Payee, *protocol.PaymentRequest, error) {
	var r protocol.PaymentRequest
	if err := protocol.OpenAs(reqWire, &r); err != nil {
		return Payee{}, nil, err
	}
	if err := r.Verify(); err != nil {
		return Payee{}, nil, err
	}
	c := &r.Payee
	return Payee{Kind: c.Kind(), Name: c.DisplayName(), Account: c.Account, Device: c.ID(), Amount: r.Amount,
		Currency: r.Currency, Expiry: time.Unix(int64(r.Expiry), 0).UTC(), Standing: r.Nonce == protocol.Nonce{}}, &r, nil
}

// Pay pays the request in reqWire (amount only for an open request) and
// returns the bundle's envelope to hand to the payee: PayTo without a
// confirmation.
func (w *Wallet) Pay(reqWire []byte, amount uint64) ([]byte, error) {
	b, _, err := w.PayRetry(reqWire, amount, nil)
	return b, err
}

// PayTo pays the request in reqWire (amount only for an open request)
// after confirm, if not nil, has seen the certified payee and returned
// nil: an error from confirm ends the payment before the SE signs
// anything. The request's signature is checked here and again, with the
// payee's certificate chain and revocation, inside the SE: an unverified
// payee is never paid. A request paid before gives the same payment
// again (PayRetry).
func (w *Wallet) PayTo(reqWire []byte, amount uint64, confirm func(Payee) error) ([]byte, error) {
	b, _, err := w.PayRetry(reqWire, amount, confirm)
	return b, err
}

// PayRetry is PayTo that also reports a repeat: a request this wallet
// paid before (pending or confirmed, while the request is valid) gives
// the payment made then, byte for byte, and repeat is true; nothing is
// debited again. So a payer who lost the payment code, or whose command
// failed after the SE signed, shows the same code again by paying again.
func (w *Wallet) PayRetry(reqWire []byte, amount uint64, confirm func(Payee) error) (bundle []byte, repeat bool, err error) {
	payee, req, err := DescribeRequest(reqWire)
	if err != nil {
		return nil, false, err
	}
	if confirm != nil {
		if payee.Amount == 0 {
			payee.Amount = amount
		}
		if err := confirm(payee); err != nil {
			return nil, false, err
		}
	}
	r := *req
	w.mu.Lock()
	defer w.mu.Unlock()
	if rec := w.h.paidOnline(r.Payee.ID().String(), hex.EncodeToString(r.Nonce[:])); rec != nil && r.Nonce != (protocol.Nonce{}) {
		return nil, false, se.Errorf(se.CodeNonceUsed, "this request was paid online from the account (payment %.16s): nothing is paid twice", rec.ID)
	}
	st, err := w.se.Status(w.clock())
	if err != nil {
		return nil, false, err
	}
	b, err := w.se.Pay(&r, amount, w.clock())
	if err != nil {
		return nil, false, err
	}
	if err := w.fold(); err != nil {
		return nil, false, err
	}
	if rec := w.h.get(b.Payment.ID().String()); rec != nil && rec.Kind == KindPay && rec.CounterpartyAccount == "" {
		rec.CounterpartyAccount, rec.CounterpartyName = r.Payee.Account, r.Payee.Name
	}
	return protocol.Seal(b), b.Payment.Counter <= st.Counter, nil
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
		r := Record{
			ID: b.Payment.ID().String(), Kind: KindReceive, Amount: b.Payment.Amount,
			Counterparty: b.Payment.Payer.String(), Time: w.clock(), State: Rejected, Reason: err.Error(),
		}
		if b.Payment.IsRefund() {
			r.Kind, r.Sale = KindRefunded, b.Payment.Sale.String()
		}
		w.h.add(r)
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
	if r := w.h.get(b.Payment.ID().String()); r != nil && incoming(r.Kind) {
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

// receiptIssuer is an SE that can give again a receipt it issued (the
// virtual SE signs it again, byte for byte, from its receive entry).
type receiptIssuer interface {
	IssuedReceipt(pid protocol.Hash) (*protocol.Receipt, error)
}

// Receipt returns the receipt envelope this wallet issued for the payment
// id it received (see AcceptRetry): from the history, or, if the history
// lost it (a write that failed after the SE credited the purse: a full
// disk), from the SE, which credited and logged in one write.
func (w *Wallet) Receipt(id protocol.Hash) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.h.get(id.String())
	if r != nil && incoming(r.Kind) && r.State != Rejected && len(r.Receipt) > 0 {
		return append([]byte(nil), r.Receipt...), true
	}
	if ri, ok := w.se.(receiptIssuer); ok && (r == nil || r.State != Rejected) {
		if rc, err := ri.IssuedReceipt(id); err == nil {
			return protocol.Seal(rc), true
		}
	}
	return nil, false
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
		if r := w.h.get(rc.Payment.String()); errors.Is(err, se.ErrUnknownPayment) && r != nil && (r.Kind == KindPay || r.Kind == KindRefund) && r.State != Pending {
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
