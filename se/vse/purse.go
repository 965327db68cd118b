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
	// A renewal may have raised the PIN minimum since enrolment: the SE
	// pays again once opened with a PIN that meets it.
	if v.cert.Limits.MinPIN > uint64(v.pinLen) {
		return nil, se.Errorf(se.CodeWeakPIN, "the PIN has %d characters; the issuer's policy now asks at least %d", v.pinLen, v.cert.Limits.MinPIN)
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
		return nil, se.Errorf(se.CodeExpired, "the request expired at %s (now %s)", when(r.Expiry), when(t))
	}
	// A request is paid once: paying it again gives the payment made for
	// it and changes nothing. The standing request (all-zero nonce) is
	// paid as often as the payer likes, each payment its own counter.
	if r.Nonce != (protocol.Nonce{}) {
		if c, ok := v.paidFor(payee, r.Nonce); ok {
			return v.payAgain(c, amount)
		}
	}
	if r.Currency != v.cert.Currency || r.Payee.Currency != v.cert.Currency {
		return nil, se.Errorf(se.CodeCurrency, "request in %s, purse in %s", r.Currency, v.cert.Currency)
	}
	switch {
	case r.Amount != 0 && amount != 0 && amount != r.Amount:
		return nil, se.Errorf(se.CodeAmountMismatch, "the request asks %s, not %s", v.money(r.Amount), v.money(amount))
	case r.Amount != 0:
		amount = r.Amount
	case amount == 0 || amount > protocol.MaxAmount:
		return nil, se.Errorf(se.CodeBadRequest, "open request needs an amount")
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
		return nil, se.Errorf(se.CodeOfflineTooLong, "last sync at %s: the purse pays until %s without a sync (now %s)", when(s.LastSync), when(deadline), when(t))
	}
	if amount > lim.PerPayment {
		return nil, se.Limitf(se.LimitPerPayment, "%s is above the per-payment limit of %s", v.money(amount), v.money(lim.PerPayment))
	}
	if amount > s.Balance {
		return nil, se.Errorf(se.CodeInsufficientFunds, "%s asked, %s in the purse", v.money(amount), v.money(s.Balance))
	}
	hops, take, err := s.planPay(amount, lim.MaxHops, v.cert.Currency)
	if err != nil {
		return nil, err
	}
	// A counter the ledger could not believe an honest SE reached is taken
	// for a broken SE's (protocol.MaxUnackedEntries): refuse instead.
	if s.Counter+1-s.Acked > protocol.MaxUnackedEntries {
		return nil, se.Limitf(se.LimitUnacked, "%d log entries since the last acknowledged counter %d, limit %d", s.Counter-s.Acked, s.Acked, protocol.MaxUnackedEntries)
	}
	n, val := v.offline()
	if n+1 > lim.MaxOfflineCount {
		return nil, se.Limitf(se.LimitOfflineCount, "%d payments since the last sync, the limit: sync first", n)
	}
	if val+amount > lim.MaxOfflineValue {
		return nil, se.Limitf(se.LimitOfflineValue, "%s paid since the last sync; %s more is above the limit of %s before a sync", v.money(val), v.money(amount), v.money(lim.MaxOfflineValue))
	}

	p := protocol.Payment{
		Version: protocol.Version, Payer: v.id, Payee: payee, Amount: amount,
		Currency: v.cert.Currency, Counter: s.Counter + 1, Nonce: r.Nonce, Time: t, Hops: hops,
	}
	if err := p.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := v.appendEntry(protocol.EntryPay, t, p.Marshal()); err != nil {
		return nil, err
	}
	s.Balance -= amount
	s.spend(take)
	id := p.ID()
	s.Pending[string(id[:])] = pendingPay{
		Payee: payee, PayeeAlg: r.Payee.KeyAlg, PayeeKey: r.Payee.Key,
		Amount: amount, Counter: p.Counter, Nonce: r.Nonce,
	}
	s.Unacked = append(s.Unacked, payRec{Counter: p.Counter, Amount: amount})
	if r.Nonce != (protocol.Nonce{}) {
		for k, pr := range s.Paid {
			if pr.Expiry <= t {
				delete(s.Paid, k)
			}
		}
		s.Paid[paidKey(payee, r.Nonce)] = paidRec{Counter: p.Counter, Expiry: r.Expiry}
	}
	v.rememberPurchase(&r.Payee, &p)
	if err := v.commit(); err != nil {
		return nil, err
	}
	return &protocol.PaymentBundle{Payment: p, Cert: *v.cert}, nil
}

func paidKey(payee protocol.KeyID, n protocol.Nonce) string {
	return string(append(payee[:], n[:]...))
}

// paidFor returns the counter of the payment this SE made for the
// request (payee, nonce), if it remembers one: Paid holds it until the
// request expires; a payment from before Paid existed is found while it
// is pending.
func (v *VSE) paidFor(payee protocol.KeyID, n protocol.Nonce) (uint64, bool) {
	if p, ok := v.s.Paid[paidKey(payee, n)]; ok {
		return p.Counter, true
	}
	for _, p := range v.s.Pending {
		if p.Payee == payee && p.Nonce == n {
			return p.Counter, true
		}
	}
	return 0, false
}

// payAgain returns the payment of log entry c again, for a request it
// paid: the same signed bytes, nothing debited. An open request paid
// again with another amount than it was paid is refused.
func (v *VSE) payAgain(c, amount uint64) (*protocol.PaymentBundle, error) {
	es, err := v.entries(c, 1)
	if err != nil || len(es) == 0 || es[0].Counter != c || es[0].Kind != protocol.EntryPay {
		return nil, se.Errorf(se.CodeNonceUsed, "this request was already paid (log entry %d, no longer held)", c)
	}
	var p protocol.Payment
	if err := protocol.Unmarshal(es[0].Body, &p); err != nil {
		return nil, err
	}
	if amount != 0 && amount != p.Amount {
		return nil, se.Errorf(se.CodeNonceUsed, "this request was already paid, %s; paying it again shows that payment, for that amount only", v.money(p.Amount))
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
	if p.IsRefund() {
		return v.acceptRefund(&bb, ak, t)
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
			return nil, se.Errorf(se.CodeExpired, "the request expired at %s (now %s)", when(nr.Expiry), when(t))
		}
		if nr.Amount != 0 && p.Amount != nr.Amount {
			return nil, se.Errorf(se.CodeAmountMismatch, "the request asked %s, the payment is %s", v.money(nr.Amount), v.money(p.Amount))
		}
	}
	if s.Balance+p.Amount > v.cert.Limits.Holding || s.Balance+p.Amount < s.Balance {
		return nil, se.Limitf(se.LimitHolding, "%s in the purse and %s more is above its holding limit of %s", v.money(s.Balance), v.money(p.Amount), v.money(v.cert.Limits.Holding))
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
	s.received(s.Counter, p.Hops, p.Amount)
	if standing {
		s.Claims[ak] = satAdd(p.Time, protocol.ClaimWindow)
	} else {
		s.Accepted[ak] = nr.Expiry
		delete(s.Issued, nonce)
		s.Used[nonce] = nr.Expiry
	}
	v.rememberSale(&bb)
	v.pruneNonces(t)
	v.pruneClaims()
	v.pruneSales()
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
		return nil, se.Errorf(se.CodeBadRequest, "amount %s", v.money(amount))
	}
	if amount > v.s.Balance {
		return nil, se.Errorf(se.CodeInsufficientFunds, "%s asked, %s in the purse", v.money(amount), v.money(v.s.Balance))
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
	v.s.drain(amount)
	v.s.Balance -= amount
	if err := v.commit(); err != nil {
		return nil, err
	}
	return &rd, nil
}
