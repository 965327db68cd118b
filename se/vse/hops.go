package vse

import (
	"cmp"
	"slices"

	"github.com/offpay/offpay/se"
)

// Hops (protocol.Limits.MaxHops). Value the ledger has seen (loads, and
// receipts whose receive entries it has acknowledged) is paid with Hops 1.
// Value received offline is kept apart, per receive entry, until a sync
// result acknowledges that entry; paying it on makes a payment of its
// Hops + 1, allowed while its Hops is at most the certificate's MaxHops.
// A payment takes acknowledged value first, then received value of the
// fewest hops, and carries the highest Hops of what it took plus one; a
// redeem and a merchant sweep take the most-hopped value first, keeping
// what can still be paid on.

// hotRec is value received offline that the ledger has not acknowledged.
type hotRec struct {
	Counter uint64 // the receive entry
	Hops    uint64 // the payment's
	Left    uint64 // not yet paid on, redeemed or swept
}

// hotTotal is the value received offline and not yet acknowledged.
func (s *state) hotTotal() uint64 {
	var t uint64
	for _, h := range s.Hot {
		t += h.Left
	}
	return min(t, s.Balance)
}

// spendable is what the purse can pay now under maxHops.
func (s *state) spendable(maxHops uint64) uint64 {
	v := s.Balance - s.hotTotal()
	for _, h := range s.Hot {
		if h.Hops <= maxHops {
			v += h.Left
		}
	}
	return min(v, s.Balance)
}

// planPay returns the Hops of a payment of amount, and the parts of Hot
// it takes (index -> value), or an error if value received offline more
// than maxHops times would be needed.
func (s *state) planPay(amount, maxHops uint64, currency string) (uint64, map[int]uint64, error) {
	settled := s.Balance - s.hotTotal()
	if amount <= settled {
		return 1, nil, nil
	}
	need := amount - settled
	order := make([]int, len(s.Hot))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(s.Hot[a].Hops, s.Hot[b].Hops) })
	take := map[int]uint64{}
	var top uint64
	for _, i := range order {
		h := s.Hot[i]
		if need == 0 || h.Hops > maxHops {
			break
		}
		t := min(h.Left, need)
		if t == 0 {
			continue
		}
		take[i], need, top = t, need-t, max(top, h.Hops)
	}
	if need > 0 {
		return 0, nil, se.Limitf(se.LimitHops, "%s of the purse was received offline more than %d time(s) and can be paid on after a sync; %s can be paid now",
			money(s.hotTotal()-(s.spendable(maxHops)-settled), currency), maxHops, money(s.spendable(maxHops), currency))
	}
	return top + 1, take, nil
}

// spend takes the planned parts out of Hot.
func (s *state) spend(take map[int]uint64) {
	for i, t := range take {
		s.Hot[i].Left -= t
	}
	s.Hot = slices.DeleteFunc(s.Hot, func(h hotRec) bool { return h.Left == 0 })
}

// drain takes amount out of the purse's received value, the most-hopped
// first (a redeem or a sweep: value that leaves the purse other than by
// payment), so that what stays can still be paid on.
func (s *state) drain(amount uint64) {
	slices.SortStableFunc(s.Hot, func(a, b hotRec) int { return cmp.Compare(b.Hops, a.Hops) })
	for i := range s.Hot {
		t := min(s.Hot[i].Left, amount)
		s.Hot[i].Left -= t
		amount -= t
	}
	s.Hot = slices.DeleteFunc(s.Hot, func(h hotRec) bool { return h.Left == 0 })
	slices.SortStableFunc(s.Hot, func(a, b hotRec) int { return cmp.Compare(a.Counter, b.Counter) })
}

// acked makes the received value of entries up to counter acknowledged.
func (s *state) acked(counter uint64) {
	s.Hot = slices.DeleteFunc(s.Hot, func(h hotRec) bool { return h.Counter <= counter })
}

// received records value received offline in a payment of hops at counter.
func (s *state) received(counter, hops, amount uint64) {
	s.Hot = append(s.Hot, hotRec{Counter: counter, Hops: max(hops, 1), Left: amount})
}
