package vse

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// PayOnline implements se.SE. It checks the request as Pay does (signed
// by a certified payee that is not revoked, not expired, in the purse's
// currency, the amount it asks) and this device's own standing, and signs
// an OnlinePayment for the ledger. It changes no state and the purse not
// at all: the ledger debits the account, and answers the same request
// with the same receipt. A request this SE already paid offline is
// refused (CodeNonceUsed): it is paid.
func (v *VSE) PayOnline(req *protocol.PaymentRequest, amount uint64, now uint64) (*protocol.OnlinePayment, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if err := v.payer(); err != nil {
		return nil, err
	}
	if v.cert.Limits.MinPIN > uint64(v.pinLen) {
		return nil, se.Errorf(se.CodeWeakPIN, "the PIN has %d characters; the issuer's policy now asks at least %d", v.pinLen, v.cert.Limits.MinPIN)
	}
	t := v.clock(now)
	var r protocol.PaymentRequest
	if err := protocol.Unmarshal(req.Marshal(), &r); err != nil {
		return nil, se.FromProtocol(err)
	}
	if err := r.Verify(); err != nil {
		return nil, se.FromProtocol(err)
	}
	if err := v.trust.VerifyDevice(&r.Payee, t, v.rl); err != nil {
		return nil, se.FromProtocol(err)
	}
	payee := r.Payee.ID()
	if payee == v.id {
		return nil, se.Errorf(se.CodeBadRequest, "a device cannot pay itself")
	}
	if r.Nonce == (protocol.Nonce{}) {
		return nil, se.Errorf(se.CodeBadRequest, "a standing request cannot be paid online: it has no nonce to pay it once")
	}
	if t >= r.Expiry {
		return nil, se.Errorf(se.CodeExpired, "the request expired at %s (now %s)", when(r.Expiry), when(t))
	}
	if _, ok := v.paidFor(payee, r.Nonce); ok {
		return nil, se.Errorf(se.CodeNonceUsed, "this request was paid from the purse already")
	}
	if r.Currency != v.cert.Currency || r.Payee.Currency != v.cert.Currency {
		return nil, se.Errorf(se.CodeCurrency, "request in %s, account in %s", r.Currency, v.cert.Currency)
	}
	switch {
	case r.Amount != 0 && amount != 0 && amount != r.Amount:
		return nil, se.Errorf(se.CodeAmountMismatch, "the request asks %s, not %s", v.money(r.Amount), v.money(amount))
	case r.Amount != 0:
		amount = r.Amount
	case amount == 0 || amount > protocol.MaxAmount:
		return nil, se.Errorf(se.CodeBadRequest, "open request needs an amount")
	}
	if err := v.trust.VerifyDevice(v.cert, t, v.rl); err != nil {
		return nil, se.FromProtocol(err)
	}
	p := &protocol.OnlinePayment{Version: protocol.Version, Payer: v.id, Request: r, Amount: amount, Currency: v.cert.Currency, Time: t}
	if err := p.Sign(v.signer); err != nil {
		return nil, err
	}
	return p, nil
}
