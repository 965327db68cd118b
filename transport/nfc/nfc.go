// Package nfc is a tap at the terminal: the payee's terminal is the reader
// (a contactless reader is a PC/SC reader), the payer is the card (a smart
// card, or a phone's host card emulation speaking the same APDUs,
// spec/card/CARD.md), and the payment is the card's APDU exchange driven
// by the terminal: the terminal's request, PAY on the card, the terminal's
// accept, CONFIRM RECEIPT on the card. Nothing new crosses the air: the
// messages are the ones of a QR or Bluetooth payment.
//
// A tap torn between PAY and CONFIRM RECEIPT (the card taken away) leaves
// a payment the terminal took and the card holds pending, as any torn
// payment: the card gets its receipt at its next tap at this terminal
// (Tap delivers the receipts it holds for the card's pending payments
// first), or the payment settles when either side syncs. A tap torn
// during PAY leaves the terminal without the payment: it keeps the request
// and the next tap pays it, and a card that signed it already gives the
// same payment again, never a second one.
package nfc

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/wallet"
)

// RequestTTL is how long a tap's payment request stays valid: a tap lasts
// well under a second, and a request kept after a torn PAY waits for the
// card's return.
const RequestTTL = 2 * time.Minute

// Terminal is the payee's side of taps: its wallet (the merchant's SE)
// and the request kept from a tap torn during PAY.
type Terminal struct {
	Payee *wallet.Wallet
	// Now is the time given to the card's SE (unix seconds); default the
	// system clock.
	Now func() uint64
	// BeforeConfirm, if set, runs after the terminal accepted the payment
	// and before CONFIRM RECEIPT: tests take the card away there.
	BeforeConfirm func()
	// Check, if set, may refuse a new payment before the terminal accepts
	// it (a merchant's own risk settings); a payment the terminal took
	// before (a torn tap's) is not checked again.
	Check func(*protocol.PaymentBundle) error

	mu    sync.Mutex
	retry []byte // the request of a tap torn during PAY
	amt   uint64
}

// Result is what one tap did.
type Result struct {
	Payment   protocol.Hash
	Amount    uint64
	Repeat    bool // the card gave a payment it had signed before (a torn PAY paid again)
	Delivered int  // receipts of earlier torn taps given to the card first
	// Torn: the card left after PAY and before its receipt; the terminal
	// has the payment (the merchant is paid) and the card settles it at
	// its next tap or sync.
	Torn bool
}

// ErrNoPayment is a tap that ended before the card's payment reached the
// terminal: nothing was taken; the next tap pays the same request.
var ErrNoPayment = errors.New("nfc: the card left before its payment reached the terminal; tap again")

func (t *Terminal) now() uint64 {
	if t.Now != nil {
		return t.Now()
	}
	return uint64(time.Now().Unix())
}

// Tap takes amount from the card in the reader.
func (t *Terminal) Tap(card se.SE, amount uint64) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := &Result{Amount: amount}
	n, pending, err := t.deliver(card)
	if err != nil {
		return nil, fmt.Errorf("nfc: earlier receipts: %w", err)
	}
	res.Delivered = n
	reqWire := t.retry
	if reqWire == nil || t.amt != amount {
		if reqWire, err = t.Payee.Request(amount, RequestTTL); err != nil {
			return nil, err
		}
	}
	var req protocol.PaymentRequest
	if err := protocol.OpenAs(reqWire, &req); err != nil {
		return nil, err
	}
	b, err := card.Pay(&req, 0, t.now())
	if err != nil {
		if se.CodeOf(err) == "" {
			// Not the card's refusal: it left, or the link failed. It may
			// have signed: keep the request for the next tap.
			t.retry, t.amt = reqWire, amount
			return nil, fmt.Errorf("%w (%v)", ErrNoPayment, err)
		}
		t.retry = nil
		return nil, err
	}
	t.retry = nil
	res.Payment, res.Repeat = b.Payment.ID(), pending[b.Payment.ID()]
	if _, taken := t.Payee.Receipt(res.Payment); !taken && t.Check != nil {
		if err := t.Check(b); err != nil {
			return nil, err
		}
	}
	rcWire, _, err := t.Payee.AcceptRetry(protocol.Seal(b))
	if err != nil {
		return nil, err
	}
	if t.BeforeConfirm != nil {
		t.BeforeConfirm()
	}
	var rc protocol.Receipt
	if err := protocol.OpenAs(rcWire, &rc); err != nil {
		return nil, err
	}
	if err := card.ConfirmReceipt(&rc, t.now()); err != nil {
		if se.CodeOf(err) != "" {
			return nil, err
		}
		res.Torn = true
	}
	return res, nil
}

// deliver confirms, on the card, the receipts this terminal issued for
// the card's pending payments to it: what a torn tap left undone. It
// returns how many, and the payments still pending (a payment PAY then
// gives again is a repeat).
func (t *Terminal) deliver(card se.SE) (int, map[protocol.Hash]bool, error) {
	ps, err := card.Pending()
	if err != nil {
		return 0, nil, err
	}
	self := t.Payee.SE().Certificate()
	if self == nil {
		return 0, nil, errors.New("nfc: the terminal is not enrolled")
	}
	n, pending := 0, map[protocol.Hash]bool{}
	for _, p := range ps {
		pending[p.ID] = true
		if p.Payee != self.ID() {
			continue
		}
		w, ok := t.Payee.Receipt(p.ID)
		if !ok {
			continue
		}
		var rc protocol.Receipt
		if err := protocol.OpenAs(w, &rc); err != nil {
			return n, nil, err
		}
		if err := card.ConfirmReceipt(&rc, t.now()); err != nil {
			return n, nil, err
		}
		delete(pending, p.ID)
		n++
	}
	return n, pending, nil
}
