package vse

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// StandingRequest implements se.SE. The request is open (amount 0), names
// the all-zero nonce and is valid until p.Expiry, or the certificate's
// NotAfter when p.Expiry is 0. Issuing it again (a new name, a renewed
// certificate) keeps the later expiry.
func (v *VSE) StandingRequest(p se.RequestParams, now uint64) (*protocol.PaymentRequest, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	t := v.clock(now)
	if p.Amount != 0 {
		return nil, se.Errorf(se.CodeBadRequest, "a standing request is open: no amount, not %s", v.money(p.Amount))
	}
	if p.Expiry == 0 {
		p.Expiry = v.cert.NotAfter
	}
	if p.Expiry <= t {
		return nil, se.Errorf(se.CodeExpired, "the standing request would expire at %s (now %s)", when(p.Expiry), when(t))
	}
	r := &protocol.PaymentRequest{
		Version: protocol.Version, Payee: *v.cert, Currency: v.cert.Currency,
		Expiry: p.Expiry, Name: p.Name, ChannelKey: p.ChannelKey, Pairing: p.Pairing,
	}
	if err := r.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := protocol.Unmarshal(r.Marshal(), new(protocol.PaymentRequest)); err != nil {
		return nil, se.FromProtocol(err)
	}
	if p.Expiry > v.s.Standing {
		v.s.Standing = p.Expiry
		if err := v.commit(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// checkStanding says whether a payment with the all-zero nonce may be
// received at time t.
func (v *VSE) checkStanding(t uint64) error {
	switch {
	case v.s.Standing == 0:
		return se.Errorf(se.CodeNonceUnknown, "no standing request: a payment needs a request nonce")
	case t >= v.s.Standing:
		return se.Errorf(se.CodeExpired, "the standing request expired at %s (now %s)", when(v.s.Standing), when(t))
	}
	return nil
}

// claimable refuses a payment too old to claim: its time is ClaimWindow or
// more below the highest ledger time this SE applied. The ledger expires a
// payment once the payee's log shows a sync that late without the payment,
// and relies on this refusal for it.
func (v *VSE) claimable(p *protocol.Payment) error {
	f := v.s.LedgerFloor
	if p.Time <= f && f-p.Time >= protocol.ClaimWindow {
		return se.Errorf(se.CodeClaimExpired, "the payment of %s could be claimed until %s (the ledger's time is %s)", when(p.Time), when(p.Time+protocol.ClaimWindow), when(f))
	}
	return nil
}

// pruneClaims forgets standing payments that Receive now refuses as too
// old to claim anyway.
func (v *VSE) pruneClaims() {
	for k, until := range v.s.Claims {
		if until <= v.s.LedgerFloor {
			delete(v.s.Claims, k)
		}
	}
}

// payer refuses a receive-only device (per-payment limit 0: a merchant
// device whose takings the ledger sweeps) anything that spends.
func (v *VSE) payer() error {
	if v.cert.Limits.PerPayment == 0 {
		return se.Errorf(se.CodeReceiveOnly, "this device is receive-only (per-payment limit 0)")
	}
	return nil
}

// satAdd is a + b, or the largest uint64 when that overflows.
func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}
