package vse

import (
	"cmp"
	"slices"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Refunds (SPEC.md 7.5.1, 9.1, 10). A merchant's SE remembers each payment
// it received (Sales) and a payer's SE each payment it made to a merchant's
// device (Bought), until the ledger floor reaches the payment's time +
// protocol.RefundWindow: both sets hold the payments of the last three
// days of ledger time, as the standing request's Claims do, so a wallet
// clock set forward cannot make them grow. The merchant refunds a sale
// once, at most its amount, to its payer; the payer accepts one refund per
// sale, at most its amount, from the device it paid.

// saleRec is a payment this SE received, remembered for a refund.
type saleRec struct {
	Payer    protocol.KeyID
	PayerAlg protocol.Alg // the payer's key, to verify its receipt of the refund
	PayerKey []byte
	Amount   uint64
	Time     uint64
	Until    uint64 // Time + RefundWindow
	Refund   uint64 // counter of the refund's pay entry, 0 while not refunded
	Refunded uint64 // its amount
}

// boughtRec is a payment this SE made to a merchant's device.
type boughtRec struct {
	Payee    protocol.KeyID
	Amount   uint64
	Until    uint64
	Refunded bool // a refund of it was accepted
}

// rememberSale records a payment this merchant SE is accepting (Receive).
func (v *VSE) rememberSale(b *protocol.PaymentBundle) {
	p := &b.Payment
	if v.cert.Kind() != protocol.KindMerchant || p.IsRefund() {
		return
	}
	id := p.ID()
	v.s.Sales[string(id[:])] = saleRec{Payer: p.Payer, PayerAlg: b.Cert.KeyAlg, PayerKey: b.Cert.Key, Amount: p.Amount,
		Time: p.Time, Until: satAdd(p.Time, protocol.RefundWindow)}
}

// rememberPurchase records a payment this SE is making (Pay) to a
// merchant's device, whose refund it may accept.
func (v *VSE) rememberPurchase(payee *protocol.Certificate, p *protocol.Payment) {
	if payee.Kind() != protocol.KindMerchant {
		return
	}
	id := p.ID()
	v.s.Bought[string(id[:])] = boughtRec{Payee: p.Payee, Amount: p.Amount, Until: satAdd(p.Time, protocol.RefundWindow)}
}

// pruneSales forgets sales and purchases too old to refund: their refund
// window has passed in ledger time.
func (v *VSE) pruneSales() {
	for k, r := range v.s.Sales {
		if r.Until <= v.s.LedgerFloor {
			delete(v.s.Sales, k)
		}
	}
	for k, r := range v.s.Bought {
		if r.Until <= v.s.LedgerFloor {
			delete(v.s.Bought, k)
		}
	}
}

// Refund implements se.SE (SPEC.md 9.1). All checks come first and change
// nothing; one write then records the entry, the sale as refunded and the
// offline count, before the signed refund is returned.
func (v *VSE) Refund(sale protocol.Hash, amount, now uint64) (*protocol.PaymentBundle, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if v.cert.Kind() != protocol.KindMerchant {
		return nil, se.Errorf(se.CodeBadRequest, "only a merchant's device refunds: a person pays the money back with a payment")
	}
	s, lim := v.s, v.cert.Limits
	key := string(sale[:])
	rec, ok := s.Sales[key]
	if !ok || rec.Until <= s.LedgerFloor {
		return nil, se.Errorf(se.CodeUnknownSale, "sale %v is not a payment this device received within the refund window (its ledger time is %s)", sale, when(s.LedgerFloor))
	}
	if rec.Refund != 0 {
		if amount != 0 && amount != rec.Refunded {
			return nil, se.Errorf(se.CodeAlreadyRefunded, "sale %v was refunded before, %s: a sale is refunded once (refunding it again without an amount shows that refund)", sale, v.money(rec.Refunded))
		}
		return v.refundAgain(rec.Refund)
	}
	if amount == 0 {
		amount = rec.Amount
	}
	if amount > rec.Amount {
		return nil, se.Limitf(se.LimitRefund, "a refund of %s is above the sale of %s", v.money(amount), v.money(rec.Amount))
	}
	if v.cert.Limits.MinPIN > uint64(v.pinLen) {
		return nil, se.Errorf(se.CodeWeakPIN, "the PIN has %d characters; the issuer's policy now asks at least %d", v.pinLen, v.cert.Limits.MinPIN)
	}
	t := v.clock(now)
	if err := v.trust.VerifyDevice(v.cert, t, v.rl); err != nil {
		return nil, se.FromProtocol(err)
	}
	if deadline := s.LastSync + lim.MaxOfflineDays*day; t >= deadline {
		if t > s.Floor {
			s.Floor = t
			if err := v.commit(); err != nil {
				return nil, err
			}
		}
		return nil, se.Errorf(se.CodeOfflineTooLong, "last sync at %s: the device signs until %s without a sync (now %s)", when(s.LastSync), when(deadline), when(t))
	}
	if s.Counter+1-s.Acked > protocol.MaxUnackedEntries {
		return nil, se.Limitf(se.LimitUnacked, "%d log entries since the last acknowledged counter %d, limit %d", s.Counter-s.Acked, s.Acked, protocol.MaxUnackedEntries)
	}
	n, val := v.offline()
	if n+1 > lim.MaxOfflineCount {
		return nil, se.Limitf(se.LimitOfflineCount, "%d payments and refunds since the last sync, the limit: sync first", n)
	}
	if val+amount > lim.MaxOfflineValue || val+amount < val {
		return nil, se.Limitf(se.LimitOfflineValue, "%s paid since the last sync; %s more is above the limit of %s before a sync", v.money(val), v.money(amount), v.money(lim.MaxOfflineValue))
	}

	p := protocol.Payment{
		Version: protocol.Version, Payer: v.id, Payee: rec.Payer, Amount: amount, Currency: v.cert.Currency,
		Counter: s.Counter + 1, Sale: sale, Time: t, Hops: 1,
	}
	if err := p.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := v.appendEntry(protocol.EntryPay, t, p.Marshal()); err != nil {
		return nil, err
	}
	rec.Refund, rec.Refunded = p.Counter, amount
	s.Sales[key] = rec
	id := p.ID()
	s.Pending[string(id[:])] = pendingPay{Payee: rec.Payer, PayeeAlg: rec.PayerAlg, PayeeKey: rec.PayerKey,
		Amount: amount, Counter: p.Counter, Refund: true}
	s.Unacked = append(s.Unacked, payRec{Counter: p.Counter, Amount: amount})
	if err := v.commit(); err != nil {
		return nil, err
	}
	return &protocol.PaymentBundle{Payment: p, Cert: *v.cert}, nil
}

// refundAgain returns the refund of log entry c again: the same signed
// bytes, nothing new signed or recorded.
func (v *VSE) refundAgain(c uint64) (*protocol.PaymentBundle, error) {
	es, err := v.entries(c, 1)
	if err != nil || len(es) == 0 || es[0].Counter != c || es[0].Kind != protocol.EntryPay {
		return nil, se.Errorf(se.CodeAlreadyRefunded, "this sale was refunded before (log entry %d, no longer held)", c)
	}
	var p protocol.Payment
	if err := protocol.Unmarshal(es[0].Body, &p); err != nil {
		return nil, err
	}
	return &protocol.PaymentBundle{Payment: p, Cert: *v.cert}, nil
}

// acceptRefund is Receive for a refund (SPEC.md 10, checks 12'-14'), after
// the stateless checks, the replay check and the claim window: the sale
// is a payment this SE made to the refund's payer and remembers, not
// refunded before, and at least the refund.
func (v *VSE) acceptRefund(b *protocol.PaymentBundle, ak string, t uint64) (*protocol.Receipt, error) {
	s, p := v.s, &b.Payment
	key := string(p.Sale[:])
	rec, ok := s.Bought[key]
	switch {
	case !ok || rec.Until <= s.LedgerFloor:
		return nil, se.Errorf(se.CodeUnknownSale, "the refund names sale %v, not a payment this device made within the refund window", p.Sale)
	case rec.Payee != p.Payer:
		return nil, se.Errorf(se.CodeUnknownSale, "the refund comes from %v; sale %v was paid to %v", p.Payer, p.Sale, rec.Payee)
	case rec.Refunded:
		return nil, se.Errorf(se.CodeAlreadyRefunded, "sale %v was refunded before: a sale is refunded once", p.Sale)
	case p.Amount > rec.Amount:
		return nil, se.Limitf(se.LimitRefund, "a refund of %s is above the sale of %s", v.money(p.Amount), v.money(rec.Amount))
	}
	if s.Balance+p.Amount > v.cert.Limits.Holding || s.Balance+p.Amount < s.Balance {
		return nil, se.Limitf(se.LimitHolding, "%s in the purse and %s more is above its holding limit of %s", v.money(s.Balance), v.money(p.Amount), v.money(v.cert.Limits.Holding))
	}
	rc := protocol.Receipt{Version: protocol.Version, Payment: p.ID(), Payee: v.id, Counter: s.Counter + 1, Time: t}
	if err := rc.Sign(v.signer); err != nil {
		return nil, err
	}
	if err := v.appendEntry(protocol.EntryReceive, t, b.Marshal()); err != nil {
		return nil, err
	}
	s.Balance += p.Amount
	s.received(s.Counter, p.Hops, p.Amount)
	s.Claims[ak] = satAdd(p.Time, protocol.ClaimWindow)
	rec.Refunded = true
	s.Bought[key] = rec
	v.pruneClaims()
	v.pruneSales()
	if err := v.commit(); err != nil {
		return nil, err
	}
	return &rc, nil
}

// Sales implements se.SE.
func (v *VSE) Sales() ([]se.Sale, error) {
	if err := v.begin(false); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	out := make([]se.Sale, 0, len(v.s.Sales))
	for k, r := range v.s.Sales {
		if r.Until <= v.s.LedgerFloor {
			continue
		}
		sl := se.Sale{ID: protocol.Hash([]byte(k)), Payer: r.Payer, Amount: r.Amount, Time: r.Time, Until: r.Until, Refunded: r.Refunded}
		if r.Refund != 0 {
			if b, err := v.refundAgain(r.Refund); err == nil {
				sl.RefundID = b.Payment.ID()
			}
		}
		out = append(out, sl)
	}
	slices.SortFunc(out, func(a, b se.Sale) int {
		return cmp.Or(cmp.Compare(a.Time, b.Time), slices.Compare(a.ID[:], b.ID[:]))
	})
	return out, nil
}
