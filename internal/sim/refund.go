package sim

import "github.com/offpay/offpay/protocol"

// refund runs one refund: s.Dev, a merchant's device, refunds s.Amount
// (at most the sale, for an honest SE) of its latest sale from s.Peer that
// it has not refunded, and the messages travel as s.Mode says. A forged
// till refunds what it likes, the same sale again included.
func (w *world) refund(s Step) error {
	if !w.usable(s.Dev) || !w.usable(s.Peer) || w.devs[s.Peer].se == nil || s.Dev == s.Peer {
		return nil
	}
	m, c := w.devs[s.Dev], w.devs[s.Peer]
	sale := -1
	for i := len(w.pays) - 1; i >= 0; i-- {
		if p := w.pays[i]; p.payer == s.Peer && p.payee == s.Dev && p.accepted && !p.refunded && !p.bundle.Payment.IsRefund() {
			sale = i
			break
		}
	}
	if sale < 0 {
		w.count("refund: no sale to refund")
		return nil
	}
	sp := w.pays[sale]
	now := uint64(w.now)
	var b *protocol.PaymentBundle
	if m.f != nil {
		b = m.f.refund(c.id, sp.bundle.Payment.ID(), s.Amount, w.now)
	} else {
		var err error
		if b, err = m.se.Refund(sp.bundle.Payment.ID(), uint64(min(s.Amount, sp.amount)), now); err != nil {
			w.count("refund: merchant refused " + code(err))
			return nil
		}
		sp.refunded = true
	}
	i := len(w.pays)
	w.payIdx[b.Payment.ID()] = i
	w.pays = append(w.pays, &payment{payer: s.Dev, payee: s.Peer, amount: int64(b.Payment.Amount), bundle: b})
	if s.Mode == lostPayment {
		w.count("refund: refund lost")
		return nil
	}
	rc, err := c.se.Receive(b, now)
	if err != nil {
		w.count("refund: customer refused " + code(err))
		return nil
	}
	w.accept(i)
	if s.Mode == lostReceipt {
		w.count("refund: receipt lost")
		return nil
	}
	if m.f != nil {
		m.f.confirm(rc, w.now)
	} else if err := m.se.ConfirmReceipt(rc, now); err != nil {
		if w.honest(s.Dev) {
			w.violate("receipt-refused", "%s's SE refused %s's receipt of its refund: %s", w.name(s.Dev), w.name(s.Peer), code(err))
		}
		return nil
	}
	w.pays[i].confirmed = true
	w.count("refund: delivered")
	return nil
}
