package sim

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// requestTTL is how long a payment request stays open.
const requestTTL = 600

// pay runs one offline payment: the payee's SE issues a request, the
// payer signs (its SE, or a forger), and the messages travel as s.Mode
// says.
func (w *world) pay(s Step) error {
	if !w.usable(s.Dev) || !w.usable(s.Peer) || s.Dev == s.Peer || w.devs[s.Peer].se == nil && w.devs[s.Peer].f == nil {
		return nil
	}
	pe := w.devs[s.Peer]
	now := uint64(w.now)
	var req *protocol.PaymentRequest
	var err error
	if pe.f != nil {
		req, err = pe.f.request(uint64(s.Amount), w.now) // a forged till takes payments too
	} else {
		req, err = pe.se.NewRequest(se.RequestParams{Amount: uint64(s.Amount), Expiry: now + requestTTL}, now)
	}
	if err != nil {
		w.count("pay: request refused " + code(err))
		return nil
	}
	return w.payRequest(s, req)
}

// payRequest is the rest of pay: the payer signs req and the messages
// travel as s.Mode says.
func (w *world) payRequest(s Step, req *protocol.PaymentRequest) error {
	pr, pe := w.devs[s.Dev], w.devs[s.Peer]
	now := uint64(w.now)
	var b *protocol.PaymentBundle
	var err error
	if pr.f != nil {
		b, err = pr.f.pay(req, s.Amount, s.Counter, w.now)
	} else {
		b, err = pr.se.Pay(req, 0, now)
	}
	if err != nil {
		w.count("pay: payer refused " + code(err))
		return nil
	}
	i := len(w.pays)
	w.payIdx[b.Payment.ID()] = i
	w.pays = append(w.pays, &payment{payer: s.Dev, payee: s.Peer, amount: s.Amount, bundle: b})
	if s.Mode == lostPayment {
		w.count("pay: payment lost")
		return nil
	}
	var rc *protocol.Receipt
	if pe.f != nil {
		rc = pe.f.receive(b, w.now)
	} else if rc, err = pe.se.Receive(b, now); err != nil {
		w.count("pay: payee refused " + code(err))
		return nil
	}
	w.accept(i)
	if s.Mode == lostReceipt {
		w.count("pay: receipt lost")
		return nil
	}
	switch {
	case pr.f != nil:
		if s.Counter == 0 {
			pr.f.confirm(rc, w.now)
			w.pays[i].confirmed = true
		}
	default:
		if err := pr.se.ConfirmReceipt(rc, now); err != nil {
			if w.honest(s.Dev) {
				w.violate("receipt-refused", "%s's SE refused %s's receipt: %s", w.name(s.Dev), w.name(s.Peer), code(err))
			}
			return nil
		}
		w.pays[i].confirmed = true
	}
	w.count("pay: delivered")
	return nil
}

// accept books payment i as accepted by its payee's SE.
func (w *world) accept(i int) {
	p := w.pays[i]
	p.accepted = true
	payer, payee := w.ownerOf(p.payer), w.ownerOf(p.payee)
	payer.out += p.amount
	payee.in += p.amount
	if w.honest(p.payee) {
		payer.honestOut += p.amount
	}
	if w.honest(p.payer) {
		payee.honestIn += p.amount
	}
	w.accepted = append(w.accepted, i)
	// A refund is bounded by its sale, not by the per-payment limit.
	if w.honest(p.payee) && uint64(p.amount) > p.bundle.Cert.Limits.PerPayment && !p.bundle.Payment.IsRefund() {
		w.violate("se-over-limit", "%s's SE accepted %s from %s, above the payer's per-payment limit %s",
			w.name(p.payee), money(p.amount), w.name(p.payer), money(int64(p.bundle.Cert.Limits.PerPayment)))
	}
}

// replayBundle shows an accepted payment to its payee again, and to
// another honest payee: both must refuse.
func (w *world) replayBundle(sel int64) error {
	if len(w.accepted) == 0 {
		return nil
	}
	p := w.pays[w.accepted[sel%int64(len(w.accepted))]]
	targets := []int{p.payee}
	if other := int(sel>>8) % len(w.devs); other != p.payee {
		targets = append(targets, other)
	}
	for _, d := range targets {
		if !w.usable(d) || w.devs[d].se == nil || !w.honest(d) {
			continue
		}
		if _, err := w.devs[d].se.Receive(p.bundle, uint64(w.now)); err == nil {
			w.violate("replay-accepted", "%s's SE accepted %s's payment of %s to %s a second time",
				w.name(d), w.name(p.payer), money(p.amount), w.name(p.payee))
			return nil
		}
		w.count("replay-bundle: refused")
	}
	return nil
}
