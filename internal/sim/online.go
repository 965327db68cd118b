package sim

import (
	"bytes"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// onlinePaid is an online payment the ledger made, as the simulator saw
// it (for replays).
type onlinePaid struct {
	payer, payee int
	op           *protocol.OnlinePayment
	rc           *protocol.OnlineReceipt
}

// online runs one online payment (README "Online payments"): s.Peer's
// device issues a request for s.Amount, s.Dev's SE (or forger) signs an
// OnlinePayment of it, and the ledger moves the money account to account.
// The ledger's answer is checked: a refusal moves nothing; a payment
// debits the payer's account by exactly its amount (never below zero),
// credits the payee's at most that (money in may first cover the payee's
// devices' debt), and its receipt verifies under the issuer and answers
// the request. A forged request or a revoked payer is never paid. s.Mode:
// retried sends the same payment again (the same receipt, nothing moves);
// bothWays then pays the request from the purse too (a modified wallet:
// both are real debits of its owner).
func (w *world) online(s Step) error {
	if !w.usable(s.Dev) || !w.usable(s.Peer) || s.Dev == s.Peer {
		return nil
	}
	pr, pe := w.devs[s.Dev], w.devs[s.Peer]
	if pe.se == nil && pe.f == nil {
		return nil
	}
	now := uint64(w.now)
	var req *protocol.PaymentRequest
	var err error
	if pe.f != nil {
		req, err = pe.f.request(uint64(s.Amount), w.now)
	} else {
		req, err = pe.se.NewRequest(se.RequestParams{Amount: uint64(s.Amount), Expiry: now + requestTTL}, now)
	}
	if err != nil {
		w.count("online: request refused " + code(err))
		return nil
	}
	forged := false
	if s.Mode == foreignRequest {
		if pr.f == nil {
			return nil
		}
		// The payee's certificate, signed by the payer's key: a device of
		// another account.
		r := *req
		if err := r.Sign(pr.f.Key); err != nil {
			return err
		}
		req, forged = &r, true
	}
	var op *protocol.OnlinePayment
	if pr.f != nil {
		pr.f.Time = now
		op = pr.f.PayOnline(req, uint64(s.Amount))
	} else if op, err = pr.se.PayOnline(req, 0, now); err != nil {
		w.count("online: payer refused " + code(err))
		return nil
	}
	before, err := w.balances(s.Dev, s.Peer)
	if err != nil {
		return err
	}
	rc, err := w.svc.PayOnline(w.ctx, op)
	after, aerr := w.balances(s.Dev, s.Peer)
	if aerr != nil {
		return aerr
	}
	if err != nil {
		w.count("online: refused " + code(err))
		if after != before {
			w.violate("online-moved", "the ledger refused %s's online payment to %s (%s) but the accounts went from %v to %v",
				w.name(s.Dev), w.name(s.Peer), code(err), before, after)
		}
		return nil
	}
	amount := int64(op.Amount)
	switch {
	case forged:
		w.violate("online-forged", "the ledger paid %s's online payment of a request to %s signed by another account's device", w.name(s.Dev), w.name(s.Peer))
	case pr.revoked:
		w.violate("online-revoked", "the ledger paid an online payment of %s by %s, a revoked device", money(amount), w.name(s.Dev))
	}
	if rc.Verify(keys().Issuer) != nil || !rc.Answers(req) || rc.Amount != op.Amount || rc.Payer != op.Payer {
		w.violate("online-receipt", "the receipt of %s's online payment to %s does not verify or does not answer the request", w.name(s.Dev), w.name(s.Peer))
	}
	if d := before[0] - after[0]; d != amount || after[0] < 0 || after[1]-before[1] > amount || after[1] < before[1] {
		w.violate("online-moved", "an online payment of %s from %s to %s moved the accounts from %v to %v",
			money(amount), w.name(s.Dev), w.name(s.Peer), before, after)
	}
	w.ownerOf(s.Dev).onlineOut += amount
	w.ownerOf(s.Peer).onlineIn += amount
	w.onlines = append(w.onlines, &onlinePaid{payer: s.Dev, payee: s.Peer, op: op, rc: rc})
	w.count("online: paid")
	switch s.Mode {
	case retried:
		rc2, err := w.svc.PayOnline(w.ctx, op)
		again, aerr := w.balances(s.Dev, s.Peer)
		if aerr != nil {
			return aerr
		}
		switch {
		case err != nil:
			w.violate("online-retry-refused", "the ledger refused %s's online payment sent again: %s", w.name(s.Dev), code(err))
		case !bytes.Equal(rc2.Marshal(), rc.Marshal()):
			w.violate("online-twice", "the ledger answered %s's online payment sent again with another receipt", w.name(s.Dev))
		}
		if again != after {
			w.violate("online-twice", "%s's online payment sent again moved the accounts from %v to %v", w.name(s.Dev), after, again)
		}
		w.count("online: sent again")
	case bothWays:
		if pr.se == nil {
			return nil
		}
		w.count("online: paid from the purse too")
		return w.payRequest(Step{Op: opPay, Dev: s.Dev, Peer: s.Peer, Amount: s.Amount, Attack: s.Attack}, req)
	}
	return nil
}

// balances are the account balances of the owners of devices a and b.
func (w *world) balances(a, b int) ([2]int64, error) {
	var out [2]int64
	for i, d := range []int{a, b} {
		acc, err := w.svc.Account(w.ctx, w.ownerOf(d).spec.Name)
		if err != nil {
			return out, err
		}
		out[i] = acc.Balance
	}
	return out, nil
}

// replayOnline sends an online payment the ledger made again: as it was
// (the same receipt, nothing moves), for one more unit (its signature no
// longer verifies), and carrying a request of s.Peer's device instead (the
// payer never signed that): both refused, nothing moved.
func (w *world) replayOnline(s Step) error {
	if len(w.onlines) == 0 {
		return nil
	}
	o := w.onlines[s.Amount%int64(len(w.onlines))]
	variants := []*protocol.OnlinePayment{o.op}
	more := *o.op
	more.Amount++
	variants = append(variants, &more)
	if w.usable(s.Peer) && w.devs[s.Peer].se != nil && s.Peer != o.payer {
		now := uint64(w.now)
		if req, err := w.devs[s.Peer].se.NewRequest(se.RequestParams{Amount: o.op.Amount, Expiry: now + requestTTL}, now); err == nil {
			other := *o.op
			other.Request = *req
			variants = append(variants, &other)
		}
	}
	before, err := w.balances(o.payer, o.payee)
	if err != nil {
		return err
	}
	for i, v := range variants {
		var ob int64
		if i == 2 {
			acc, err := w.svc.Account(w.ctx, w.ownerOf(s.Peer).spec.Name)
			if err != nil {
				return err
			}
			ob = acc.Balance
		}
		rc, err := w.svc.PayOnline(w.ctx, v)
		switch {
		case i == 0 && err == nil && !bytes.Equal(rc.Marshal(), o.rc.Marshal()):
			w.violate("replay-changed", "%s's online payment to %s sent again got another receipt", w.name(o.payer), w.name(o.payee))
		case i == 0 && err != nil:
			w.count("replay-online: as is refused " + code(err))
		case i == 0:
			w.count("replay-online: as is, same receipt")
		case err == nil:
			w.violate("replay-accepted", "the ledger paid %s's online payment to %s altered (variant %d): nobody signed it", w.name(o.payer), w.name(o.payee), i)
		default:
			w.count("replay-online: altered refused " + code(err))
		}
		if i == 2 {
			acc, err := w.svc.Account(w.ctx, w.ownerOf(s.Peer).spec.Name)
			if err != nil {
				return err
			}
			if acc.Balance != ob {
				w.violate("replay-changed", "a replayed online payment redirected to %s moved its account from %s to %s", w.name(s.Peer), money(ob), money(acc.Balance))
			}
		}
	}
	after, err := w.balances(o.payer, o.payee)
	if err != nil {
		return err
	}
	if after != before {
		w.violate("replay-changed", "replaying %s's online payment to %s moved the accounts from %v to %v", w.name(o.payer), w.name(o.payee), before, after)
	}
	return nil
}

// revoke reports device d lost: the ledger revokes it. Its owner, an
// attacker, keeps it and tries to pay with it.
func (w *world) revoke(d int) error {
	if !w.usable(d) || w.devs[d].revoked {
		return nil
	}
	if err := w.svc.Revoke(w.ctx, w.devs[d].id, "reported lost"); err != nil {
		w.count("revoke: refused " + code(err))
		return nil
	}
	w.devs[d].revoked = true
	w.count("revoke")
	return nil
}
