package sim

// keyxRefund is a shop that took its till's key out of the SE: the till
// takes two honest customers' payments, then signs refunds no honest till
// signs (one above the sale, a second refund of the same sale) besides a
// fair one, and uploads them all in its log. The customer's SE refuses the
// two (the sale it remembers bounds a refund, and takes one refund a
// sale); the ledger proves both from the till's log (a proof of kind
// refund), revokes the till, freezes the shop and charges the shop's
// account for what the till paid out unfunded.
type keyxRefund struct{}

func (keyxRefund) kind() string { return "keyx-refund" }

func (keyxRefund) plan(g *gen, a *AttackSpec) []Step {
	per, _ := g.lim()
	m := g.person(true, true)
	f := g.device(m, -1, true)
	v1, s1 := g.victimPayer(per)
	v2, s2 := g.victimPayer(per)
	a.Devices, a.Victims = []int{f}, []int{v1, v2}
	x1, x2 := 1+g.r.Int64N(per), 1+g.r.Int64N(per)
	s := append([]Step{{Op: opEnrol, Dev: f}}, append(s1, s2...)...)
	s = append(s, Step{Op: opPay, Dev: v1, Peer: f, Amount: x1}, Step{Op: opPay, Dev: v2, Peer: f, Amount: x2}, Step{Op: opSync, Dev: f})
	s = append(s,
		Step{Op: opRefund, Dev: f, Peer: v1, Amount: x1 + 1 + g.r.Int64N(per)}, // above the sale
		Step{Op: opRefund, Dev: f, Peer: v2, Amount: 1 + g.r.Int64N(x2)},       // fair
		Step{Op: opRefund, Dev: f, Peer: v2, Amount: 1 + g.r.Int64N(x2)},       // the same sale again
	)
	s = append(s, syncs(f, v1, v2)...)
	return append(s, cashOut(m))
}
