package wallet

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/offpay/offpay/protocol"
)

// Record kinds of online payments (README "Online payments"): money moved
// account to account by the ledger, not through the purse.
const (
	KindOnlinePay     Kind = "online_pay"
	KindOnlineReceive Kind = "online_receive"
)

// OnlineLedger is a Ledger that pays requests online: the HTTP client
// (POST and GET /v1/online-payments) and wallettest's in-process ledger.
type OnlineLedger interface {
	// PayOnline answers the same request (payee, nonce) with the same
	// receipt and never debits twice.
	PayOnline(ctx context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error)
	// OnlineReceipt returns the receipt of the online payment of payee's
	// request nonce, an error while nobody paid it.
	OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error)
}

// ErrNotOnline is returned by the online payment calls when the wallet's
// ledger cannot pay online (or there is none).
var ErrNotOnline = errors.New("wallet: the ledger does not take online payments")

// ErrBadOnlineReceipt is returned when the ledger's answer is not a
// receipt of the request, signed by the issuer that certified this
// device: nothing is recorded as paid.
var ErrBadOnlineReceipt = errors.New("wallet: the online receipt does not verify")

func (w *Wallet) online() (OnlineLedger, error) {
	l, ok := w.led.(OnlineLedger)
	if !ok || w.led == nil {
		return nil, ErrNotOnline
	}
	return l, nil
}

// PayOnline pays the request in reqWire from the account at once (amount
// only for an open request) after confirm, if not nil, has seen the
// certified payee: the SE checks the request and signs an online payment,
// the ledger moves the money and answers with its signed receipt, which
// is checked before the payment is recorded as settled. The purse is not
// touched. Paying the same request again returns the same receipt and
// debits nothing (repeat is then true if this wallet recorded the
// payment before); a failure (the ledger unreachable) leaves the payment
// undone or done, and paying again says which.
func (w *Wallet) PayOnline(ctx context.Context, reqWire []byte, amount uint64, confirm func(Payee) error) (rc *protocol.OnlineReceipt, repeat bool, err error) {
	rc, err = w.payOnline(ctx, reqWire, amount, confirm, &repeat)
	return rc, repeat, err
}

func (w *Wallet) payOnline(ctx context.Context, reqWire []byte, amount uint64, confirm func(Payee) error, repeat *bool) (*protocol.OnlineReceipt, error) {
	led, err := w.online()
	if err != nil {
		return nil, err
	}
	payee, req, err := DescribeRequest(reqWire)
	if err != nil {
		return nil, err
	}
	if confirm != nil {
		if payee.Amount == 0 {
			payee.Amount = amount
		}
		if err := confirm(payee); err != nil {
			return nil, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	p, err := w.se.PayOnline(req, amount, w.clock())
	if err != nil {
		return nil, err
	}
	rc, err := led.PayOnline(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := w.checkReceipt(ctx, rc, req); err != nil {
		return nil, err
	}
	if rc.Payer != p.Payer {
		return nil, fmt.Errorf("%w: it names another payer", ErrBadOnlineReceipt)
	}
	if w.h.get(rc.Payment.String()) != nil {
		*repeat = true
		return rc, nil
	}
	w.h.add(Record{ID: rc.Payment.String(), Kind: KindOnlinePay, Amount: rc.Amount, Counterparty: rc.Payee.String(),
		CounterpartyAccount: req.Payee.Account, CounterpartyName: req.Payee.Name, Time: rc.Time, State: Settled,
		Reason: "paid online from the account", Request: hex.EncodeToString(req.Nonce[:]), Receipt: rc.Marshal()})
	return rc, w.save()
}

// OnlineReceipt looks up whether a payer paid this wallet's request
// (reqWire, as this wallet issued it) online, and returns the ledger's
// receipt once checked; the payment is then in the history as received
// and settled. Before anyone paid, the error is the ledger's ENOTFOUND.
func (w *Wallet) OnlineReceipt(ctx context.Context, reqWire []byte) (*protocol.OnlineReceipt, error) {
	led, err := w.online()
	if err != nil {
		return nil, err
	}
	_, req, err := DescribeRequest(reqWire)
	if err != nil {
		return nil, err
	}
	cert := w.se.Certificate()
	if cert == nil || req.Payee.ID() != cert.ID() {
		return nil, fmt.Errorf("wallet: the request was not issued by this wallet")
	}
	rc, err := led.OnlineReceipt(ctx, req.Payee.ID(), req.Nonce)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.checkReceipt(ctx, rc, req); err != nil {
		return nil, err
	}
	if w.h.get(rc.Payment.String()) == nil {
		w.h.add(Record{ID: rc.Payment.String(), Kind: KindOnlineReceive, Amount: rc.Amount, Counterparty: rc.Payer.String(),
			Time: rc.Time, State: Settled, Reason: "paid online into the account", Receipt: rc.Marshal()})
		if err := w.save(); err != nil {
			return nil, err
		}
	}
	return rc, nil
}

// checkReceipt checks that rc answers req and is signed by the issuer
// that certified this device. The issuer's certificate comes from the
// ledger (TrustSource), and is taken only if its KeyID, a hash of its key,
// is the issuer this device's certificate names: the SE checked that
// certificate against its pinned root at install.
func (w *Wallet) checkReceipt(ctx context.Context, rc *protocol.OnlineReceipt, req *protocol.PaymentRequest) error {
	if !rc.Answers(req) {
		return fmt.Errorf("%w: it is not for this request", ErrBadOnlineReceipt)
	}
	cert := w.se.Certificate()
	if cert == nil {
		return fmt.Errorf("%w: this wallet is not enrolled", ErrBadOnlineReceipt)
	}
	if rc.Signer != cert.Issuer {
		return fmt.Errorf("%w: signed by %v, this device's issuer is %v (sync to learn a rotated issuer)", ErrBadOnlineReceipt, rc.Signer, cert.Issuer)
	}
	ts, ok := w.led.(TrustSource)
	if !ok {
		return fmt.Errorf("%w: the ledger does not say its issuer", ErrBadOnlineReceipt)
	}
	_, iss, err := ts.Trust(ctx)
	if err != nil {
		return err
	}
	if iss.ID() != cert.Issuer {
		return fmt.Errorf("%w: the ledger's issuer %v is not this device's %v", ErrBadOnlineReceipt, iss.ID(), cert.Issuer)
	}
	if err := rc.Verify(iss); err != nil {
		return fmt.Errorf("%w: %v", ErrBadOnlineReceipt, err)
	}
	return nil
}
