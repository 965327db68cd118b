package sim

// The key-extraction attacks: the attacker has its SE's private key and
// signs whatever entries and payments it likes (a forger device, built
// with ledger/ledgertest). Honest payees still check what they can
// offline: the certificate, the signature, the per-payment limit.

// keyxHugeCounter pays an honest payee at counter 2^62, then uploads a
// log of self-signed redeems far beyond its balance and cashes out.
type keyxHugeCounter struct{}

func (keyxHugeCounter) kind() string { return "keyx-huge-counter" }

func (keyxHugeCounter) plan(g *gen, a *AttackSpec) []Step {
	per, hold := g.lim()
	m := g.attacker()
	f := g.device(m, -1, true)
	x := per + g.r.Int64N(hold-per+1)
	v := g.victim()
	a.Devices, a.Victims = []int{f}, []int{v}
	s := []Step{{Op: opEnrol, Dev: f}, {Op: opDeposit, Dev: m, Amount: x}, {Op: opReserve, Dev: f, Amount: x},
		{Op: opPay, Dev: f, Peer: v, Amount: min(x, per), Counter: 1 << 62}}
	s = append(s, syncs(v)...)
	for i := 0; i < 2+g.r.IntN(3); i++ {
		s = append(s, Step{Op: opRedeem, Dev: f, Amount: hold})
	}
	s = append(s, syncs(f)...)
	return append(s, cashOut(m))
}

// keyxOverspend pays honest payees far beyond its balance (ignoring its
// offline limits, which payees cannot check), each payment within the
// per-payment limit. It then uploads its log, or (silent) never syncs.
type keyxOverspend struct{ silent bool }

func (k keyxOverspend) kind() string {
	if k.silent {
		return "keyx-overspend-silent"
	}
	return "keyx-overspend"
}

func (k keyxOverspend) plan(g *gen, a *AttackSpec) []Step {
	per, _ := g.lim()
	m := g.attacker()
	f := g.device(m, -1, true)
	x := per/2 + g.r.Int64N(per)
	vs := []int{g.victim(), g.victim(), g.victim()}
	a.Devices, a.Victims = []int{f}, vs
	s := []Step{{Op: opEnrol, Dev: f}, {Op: opDeposit, Dev: m, Amount: x}, {Op: opReserve, Dev: f, Amount: x}}
	s = append(s, g.spend(f, vs, x*int64(2+g.r.IntN(4)))...)
	s = append(s, syncs(vs...)...)
	if !k.silent {
		s = append(s, syncs(f)...)
	}
	return append(s, cashOut(m))
}

// keyxOverLimit signs a payment above its per-payment limit (the payee
// must refuse it; the ledger must not record it from the forger's log
// either) and finally a redeem above its holding limit (the ledger must
// refuse the upload that carries it).
type keyxOverLimit struct{}

func (keyxOverLimit) kind() string { return "keyx-over-limit" }

func (keyxOverLimit) plan(g *gen, a *AttackSpec) []Step {
	per, hold := g.lim()
	m := g.attacker()
	f := g.device(m, -1, true)
	v := g.victim()
	a.Devices, a.Victims = []int{f}, []int{v}
	s := []Step{{Op: opEnrol, Dev: f}, {Op: opDeposit, Dev: m, Amount: per}, {Op: opReserve, Dev: f, Amount: per},
		{Op: opPay, Dev: f, Peer: v, Amount: per + 1 + g.r.Int64N(per)}}
	s = append(s, syncs(v, f)...)
	s = append(s, Step{Op: opRedeem, Dev: f, Amount: hold + 1}, Step{Op: opSync, Dev: f}, cashOut(m))
	return s
}

// keyxSpree is a forger on a spending spree: a payment at its per-payment
// limit to an honest payee every so often for the whole run, never
// syncing. Only payees holding a revocation list that names it stop it.
type keyxSpree struct{}

func (keyxSpree) kind() string { return "keyx-spree" }

func (keyxSpree) plan(g *gen, a *AttackSpec) []Step {
	per, _ := g.lim()
	m := g.attacker()
	f := g.device(m, -1, true)
	a.Devices = []int{f}
	s := []Step{{Op: opEnrol, Dev: f}, {Op: opDeposit, Dev: m, Amount: per}, {Op: opReserve, Dev: f, Amount: per}}
	const n = 24
	for range n {
		v := g.victim()
		a.Victims = append(a.Victims, v)
		s = append(s, Step{Op: opGap, Amount: 1000 / (n + 1)}, Step{Op: opPay, Dev: f, Peer: v, Amount: per})
	}
	return append(s, cashOut(m))
}
