package sim

// cloneSame copies an SE's state; both copies pay with the same counters,
// to different payees or (samePayee) to one payee, the second copy more
// than an hour after the first (when the payee's SE no longer remembers
// the first payment's counter). The two payments at one counter prove the
// double spend once one copy's log or both payments reach the ledger: the
// payees are honoured, the device is revoked and its owner charged. At
// least one copy syncs (a payer that never syncs is cloneDistinct's case).
type cloneSame struct{ samePayee bool }

func (c cloneSame) kind() string {
	if c.samePayee {
		return "clone-same-payee"
	}
	return "clone-same"
}

func (c cloneSame) plan(g *gen, a *AttackSpec) []Step {
	per, hold := g.lim()
	m := g.attacker()
	d := g.device(m, -1, false)
	cl := g.device(m, d, false)
	x := per + g.r.Int64N(hold-per+1)
	va, vb := g.victim(), g.victim()
	for k := 0; k < 8 && vb == va && !c.samePayee; k++ {
		vb = g.victim()
	}
	if c.samePayee {
		vb = va
	}
	a.Devices, a.Victims = []int{d, cl}, []int{va, vb}
	s := []Step{{Op: opEnrol, Dev: d}, {Op: opDeposit, Dev: m, Amount: x}, {Op: opReserve, Dev: d, Amount: x}, {Op: opEnrol, Dev: cl, Peer: d}}
	s = append(s, g.spend(d, []int{va}, x)...)
	if c.samePayee {
		s = append(s, Step{Op: opAdvance, Amount: 2 * 3600})
	}
	s = append(s, g.spend(cl, []int{vb}, x)...)
	s = append(s, syncs(va, vb)...)
	switch g.r.IntN(3) {
	case 0:
		s = append(s, syncs(d)...)
	case 1:
		s = append(s, syncs(cl)...)
	default:
		s = append(s, syncs(cl, d)...)
	}
	return append(s, cashOut(m))
}

// cloneDistinct copies an SE's state; copy 1 pays once at counter c, copy
// 2 first takes a non-payment entry (a redeem) at c and then pays from
// c+1 on. No two payments share a counter, and the payer never syncs: only
// its overspend can give it away.
type cloneDistinct struct{}

func (cloneDistinct) kind() string { return "clone-distinct" }

func (cloneDistinct) plan(g *gen, a *AttackSpec) []Step {
	per, hold := g.lim()
	m := g.attacker()
	d := g.device(m, -1, false)
	c := g.device(m, d, false)
	x := per/2 + g.r.Int64N(hold-per/2+1)
	va, vb := g.victim(), g.victim()
	a.Devices, a.Victims = []int{d, c}, []int{va, vb}
	s := []Step{{Op: opEnrol, Dev: d}, {Op: opDeposit, Dev: m, Amount: x}, {Op: opReserve, Dev: d, Amount: x}, {Op: opEnrol, Dev: c, Peer: d}}
	s = append(s, Step{Op: opPay, Dev: d, Peer: va, Amount: min(x, per)})
	s = append(s, Step{Op: opRedeem, Dev: c, Amount: 1})
	s = append(s, g.spend(c, []int{vb, va}, x-1)...)
	s = append(s, syncs(va, vb)...)
	return append(s, cashOut(m))
}
