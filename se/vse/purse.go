package vse

import (
	"encoding/binary"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Pay implements se.SE. All checks come first and change nothing; then
// one write records debit, counter and log entry, and only after that
// write succeeds is the signed payment returned.
func (v *VSE) Pay(req *protocol.PaymentRequest, amount uint64, now uint64) (*protocol.PaymentBundle, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if err := v.payer(); err != nil {
		return nil, err
	}
	t := v.clock(now)
	s, lim := v.s, v.cert.Limits
	// The request: well formed, signed by the payee key it carries, that
	// key certified by a trusted issuer and not revoked.
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
		return nil, se.Errorf(se.CodeBadRequest, "a purse cannot pay itself")
	}
	if t >= r.Expiry {
		return nil, se.Errorf(se.CodeExpired, "request expired at %d, now %d", r.Expiry, t)
	}
	if r.Currency != v.cert.Currency || r.Payee.Currency != v.cert.Currency {
		return nil, se.Errorf(se.CodeCurrency, "request in %s, purse in %s", r.Currency, v.cert.Currency)
	}
	switch {
	case r.Amount != 0 && amount != 0 && amount != r.Amount:
		return nil, se.Errorf(se.CodeAmountMismatch, "request asks %d, payer offered %d", r.Amount, amount)
	case r.Amount != 0:
		amount = r.Amount
	case amount == 0 || amount > protocol.MaxAmount:
		return nil, se.Errorf(se.CodeBadRequest, "open request needs an amount")
	}
	// A request is paid once; the standing request (all-zero nonce) is
	// paid as often as the payer likes, each payment its own counter.
	for _, p := range s.Pending {
		if p.Payee == payee && p.Nonce == r.Nonce && r.Nonce != (protocol.Nonce{}) {
			return nil, se.Errorf(se.CodeNonceUsed, "this request was already paid")
		}
	}
	// This SE's own standing: certificate valid and not revoked, synced
	// recently enough.
	if err := v.trust.VerifyDevice(v.cert, t, v.rl); err != nil {
		return nil, se.FromProtocol(err)
	}
	if deadline := s.LastSync + lim.MaxOfflineDays*day; t >= deadline {
		// The refusal raises the floor to this time: once the SE has seen
		// the deadline pass, turning the clock back cannot reopen it.
		if t > s.Floor {
			s.Floor = t
			if err := v.commit(); err != nil {
				return nil, err
			}
		}
		return nil, se.Errorf(se.CodeOfflineTooLong, "last sync at %d, deadline %d passed, now %d", s.LastSync, deadline, t)
	}
	if amount > lim.PerPayment {
		return nil, se.Limitf(se.LimitPerPayment, "amount %d above %d", amount, lim.PerPayment)
	}
	if amount > s.Balance {
		return nil, se.Errorf(se.CodeInsufficientFunds, "amount %d, balance %d", amount, s.Balance)
	}
	n, val := v.offline()
	if n+1 > lim.MaxOfflineCount {
		return nil, se.Limitf(se.LimitOfflineCount, "%d payments since the last sync, limit %d", n, lim.MaxOfflineCount)
	}
	if val+amount > lim.MaxOfflineValue {
		return nil, se.Limitf(se.LimitOfflineValue, "%d paid since the last sync + %d above %d", val, amount, lim.MaxOfflineValue)
	}

	p := protocol.Payment{
		Version: protocol.Version, Payer: v.id, Payee: payee, Amount: amount,
		Currency: v.cert.Currency, Counter: s.Counter + 1, Nonce: r.Nonce, Time: t,
	}
	if err := p.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := v.appendEntry(protocol.EntryPay, t, p.Marshal()); err != nil {
		return nil, err
	}
	s.Balance -= amount
	id := p.ID()
	s.Pending[string(id[:])] = pendingPay{
		Payee: payee, PayeeAlg: r.Payee.KeyAlg, PayeeKey: r.Payee.Key,
		Amount: amount, Counter: p.Counter, Nonce: r.Nonce,
	}
	s.Unacked = append(s.Unacked, payRec{Counter: p.Counter, Amount: amount})
	if err := v.commit(); err != nil {
		return nil, err
	}
	return &protocol.PaymentBundle{Payment: p, Cert: *v.cert}, nil
}

func acceptKey(payer protocol.KeyID, counter uint64) string {
	return string(binary.BigEndian.AppendUint64(payer[:], counter))
}

// Receive implements se.SE.
func (v *VSE) Receive(b *protocol.PaymentBundle, now uint64) (*protocol.Receipt, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	t := v.clock(now)
	s := v.s
	var bb protocol.PaymentBundle
	if err := protocol.Unmarshal(b.Marshal(), &bb); err != nil {
		return nil, se.FromProtocol(err)
	}
	err := protocol.CheckBundle(&bb, protocol.PayeeCheck{
		Trust: v.trust, RevList: v.rl, Self: v.id, Currency: v.cert.Currency,
		MaxRLAge: v.cert.Limits.MaxRevListAge, Now: t,
	})
	if err != nil {
		return nil, se.FromProtocol(err)
	}
	p := &bb.Payment
	ak := acceptKey(p.Payer, p.Counter)
	_, seen := s.Accepted[ak]
	if _, claimed := s.Claims[ak]; seen || claimed {
		return nil, se.Errorf(se.CodeAlreadyAccepted, "payment %v/%d was accepted before", p.Payer, p.Counter)
	}
	if err := v.claimable(p); err != nil {
		return nil, err
	}
	standing := p.Nonce == protocol.Nonce{}
	nonce := string(p.Nonce[:])
	var nr nonceRec
	if standing {
		if err := v.checkStanding(t); err != nil {
			return nil, err
		}
	} else {
		var ok bool
		if nr, ok = s.Issued[nonce]; !ok {
			if _, used := s.Used[nonce]; used {
				return nil, se.Errorf(se.CodeNonceUsed, "request nonce already paid")
			}
			return nil, se.Errorf(se.CodeNonceUnknown, "no open request with this nonce")
		}
		if t >= nr.Expiry {
			return nil, se.Errorf(se.CodeExpired, "request expired at %d, now %d", nr.Expiry, t)
		}
		if nr.Amount != 0 && p.Amount != nr.Amount {
			return nil, se.Errorf(se.CodeAmountMismatch, "request asked %d, payment is %d", nr.Amount, p.Amount)
		}
	}
	if s.Balance+p.Amount > v.cert.Limits.Holding || s.Balance+p.Amount < s.Balance {
		return nil, se.Limitf(se.LimitHolding, "balance %d + %d above holding limit %d", s.Balance, p.Amount, v.cert.Limits.Holding)
	}

	rc := protocol.Receipt{
		Version: protocol.Version, Payment: p.ID(), Payee: v.id, Counter: s.Counter + 1, Time: t,
	}
	if err := rc.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := v.appendEntry(protocol.EntryReceive, t, bb.Marshal()); err != nil {
		return nil, err
	}
	s.Balance += p.Amount
	if standing {
		s.Claims[ak] = satAdd(p.Time, protocol.ClaimWindow)
	} else {
		s.Accepted[ak] = nr.Expiry
		delete(s.Issued, nonce)
		s.Used[nonce] = nr.Expiry
	}
	v.pruneNonces(t)
	v.pruneClaims()
	if err := v.commit(); err != nil {
		return nil, err
	}
	return &rc, nil
}

// ConfirmReceipt implements se.SE.
func (v *VSE) ConfirmReceipt(r *protocol.Receipt, now uint64) error {
	if err := v.begin(true); err != nil {
		return err
	}
	defer v.mu.Unlock()
	var rc protocol.Receipt
	if err := protocol.Unmarshal(r.Marshal(), &rc); err != nil {
		return se.FromProtocol(err)
	}
	pp, ok := v.s.Pending[string(rc.Payment[:])]
	if !ok {
		return se.Errorf(se.CodeUnknownPayment, "no pending payment %v", rc.Payment)
	}
	if rc.Payee != pp.Payee {
		return se.Errorf(se.CodeWrongPayee, "receipt from %v, payment was to %v", rc.Payee, pp.Payee)
	}
	if rc.SigAlg != pp.PayeeAlg {
		return se.FromProtocol(protocol.ErrBadSignature)
	}
	if err := protocol.VerifySignature(pp.PayeeAlg, pp.PayeeKey, rc.SigningInput(), rc.Sig); err != nil {
		return se.FromProtocol(err)
	}
	if err := v.appendEntry(protocol.EntryConfirm, v.clock(now), rc.Marshal()); err != nil {
		return err
	}
	delete(v.s.Pending, string(rc.Payment[:]))
	return v.commit()
}

// Redeem implements se.SE.
func (v *VSE) Redeem(amount uint64, now uint64) (*protocol.Redeem, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if err := v.payer(); err != nil {
		return nil, err
	}
	if amount == 0 || amount > protocol.MaxAmount {
		return nil, se.Errorf(se.CodeBadRequest, "amount %d", amount)
	}
	if amount > v.s.Balance {
		return nil, se.Errorf(se.CodeInsufficientFunds, "amount %d, balance %d", amount, v.s.Balance)
	}
	t := v.clock(now)
	rd := protocol.Redeem{
		Version: protocol.Version, Device: v.id, Counter: v.s.Counter + 1, Amount: amount,
		Currency: v.cert.Currency, Time: t,
	}
	if err := rd.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := v.appendEntry(protocol.EntryRedeem, t, rd.Marshal()); err != nil {
		return nil, err
	}
	v.s.Balance -= amount
	if err := v.commit(); err != nil {
		return nil, err
	}
	return &rd, nil
}
