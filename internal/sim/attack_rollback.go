package sim

import "github.com/offpay/offpay/protocol"

// payeeRollback: a payee's SE state is copied before it receives an honest
// payment and restored after it countersigned; the rolled-back payee syncs
// past the claim window, so its log shows a sync entry at the counter its
// receipt names. The honest payer uploads its payment and the receipt
// afterwards: the receipt proves the payee accepted.
type payeeRollback struct{}

func (payeeRollback) kind() string { return "payee-rollback" }

func (payeeRollback) plan(g *gen, a *AttackSpec) []Step {
	per, hold := g.lim()
	m := g.attacker()
	p := g.device(m, -1, false)
	y := per + g.r.Int64N(hold-per+1)
	h, fund := g.victimPayer(y)
	a.Devices, a.Victims = []int{p}, []int{h}
	s := append([]Step{{Op: opEnrol, Dev: p}}, fund...)
	s = append(s, Step{Op: opSync, Dev: p}, Step{Op: opSnapshot, Dev: p}, Step{Op: opPay, Dev: h, Peer: p, Amount: 1 + g.r.Int64N(per)},
		Step{Op: opRollback, Dev: p})
	return append(s, pastClaimWindow(p, h)...)
}

// pastClaimWindow lets the claim window pass, has the rolled-back payee
// sync twice (the second upload carries the sync entry of the first
// answer), and then the payers.
func pastClaimWindow(payee int, payers ...int) []Step {
	s := []Step{{Op: opAdvance, Amount: int64(protocol.ClaimWindow) + 3600}, {Op: opSync, Dev: payee},
		{Op: opAdvance, Amount: 3600}, {Op: opSync, Dev: payee}}
	return append(s, syncs(payers...)...)
}

// collude: one owner's two devices. The first pays the second, which pays
// the value on to an honest payee and is then rolled back to before it
// received; past the claim window the first device's upload gets its
// payment refunded to the owner, who cashes out.
type collude struct{}

func (collude) kind() string { return "collude" }

func (collude) plan(g *gen, a *AttackSpec) []Step {
	per, hold := g.lim()
	m := g.attacker()
	d1 := g.device(m, -1, false)
	d2 := g.device(m, -1, false)
	x := per + g.r.Int64N(hold-per+1)
	v := g.victim()
	a.Devices, a.Victims = []int{d1, d2}, []int{v}
	amt := 1 + g.r.Int64N(per)
	s := []Step{{Op: opEnrol, Dev: d1}, {Op: opEnrol, Dev: d2}, {Op: opDeposit, Dev: m, Amount: x}, {Op: opReserve, Dev: d1, Amount: x},
		{Op: opSnapshot, Dev: d2}, {Op: opPay, Dev: d1, Peer: d2, Amount: amt}, {Op: opPay, Dev: d2, Peer: v, Amount: amt},
		{Op: opRollback, Dev: d2}}
	s = append(s, pastClaimWindow(d2, d1, v)...)
	return append(s, cashOut(m))
}
