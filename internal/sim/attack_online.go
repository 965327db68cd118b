package sim

// Attacks on online payments (online.go). The ledger alone decides: the
// attacker owns its devices and signs what it likes.

// onlineReplay takes an online payment an honest payer made and sends it
// again: as it was (the same receipt, nothing moves), for another amount,
// and carrying a request of the attacker's own device (the payer never
// signed either: refused).
type onlineReplay struct{}

func (onlineReplay) kind() string { return "online-replay" }

func (onlineReplay) plan(g *gen, a *AttackSpec) []Step {
	per, _ := g.lim()
	m := g.attacker()
	d := g.device(m, -1, false)
	v, s := g.victimPayer(per)
	to := g.victim()
	a.Devices, a.Victims = []int{d}, []int{v, to}
	s = append([]Step{{Op: opEnrol, Dev: d}}, s...)
	s = append(s, Step{Op: opDeposit, Dev: g.p.Devices[v].Owner, Amount: per},
		Step{Op: opOnline, Dev: v, Peer: to, Amount: 1 + g.r.Int64N(per)})
	for range 2 + g.r.IntN(3) {
		s = append(s, Step{Op: opReplayOnline, Peer: d, Amount: g.r.Int64N(1 << 20)})
	}
	return append(s, Step{Op: opSync, Dev: d}, cashOut(m))
}

// onlineRace is a payer and payee colluding: the payer's account pays
// online for more than it holds beside what it reserved, the purse spends
// the reserved funds offline, a request is paid both ways, and the payer
// withdraws, pays online and reserves again once the account is empty;
// then both cash out. The ledger must debit every online payment once and
// never below zero, and the reserved funds only once.
type onlineRace struct{}

func (onlineRace) kind() string { return "online-race" }

func (onlineRace) plan(g *gen, a *AttackSpec) []Step {
	per, _ := g.lim()
	m1, m2 := g.attacker(), g.attacker()
	d1, d2 := g.device(m1, -1, false), g.device(m2, -1, false)
	a.Devices = []int{d1, d2}
	dep, res := 2*per+g.r.Int64N(per), per/2+g.r.Int64N(per/2)
	s := []Step{{Op: opEnrol, Dev: d1}, {Op: opEnrol, Dev: d2}, {Op: opDeposit, Dev: m1, Amount: dep}, {Op: opReserve, Dev: d1, Amount: res}}
	left := dep - res
	s = append(s, Step{Op: opOnline, Dev: d1, Peer: d2, Amount: left + 1 + g.r.Int64N(per)}) // more than the account holds
	s = append(s, g.spend(d1, []int{d2}, res/2)...)
	x := min(per, left/2)
	s = append(s, Step{Op: opOnline, Dev: d1, Peer: d2, Amount: x, Mode: bothWays}, // the account and the purse
		Step{Op: opOnline, Dev: d1, Peer: d2, Amount: 1 + g.r.Int64N(per), Mode: retried},
		cashOut(m1),
		Step{Op: opOnline, Dev: d1, Peer: d2, Amount: 1 + g.r.Int64N(per)}, // nothing left
		Step{Op: opReserve, Dev: d1, Amount: 1 + g.r.Int64N(per)})          // nothing left
	s = append(s, g.spend(d1, []int{d2}, res/2)...)
	s = append(s, syncs(d2, d1)...)
	return append(s, cashOut(m2), cashOut(m1))
}

// onlineRevoked is an attacker who reports its devices lost (the ledger
// revokes them), keeps them and pays online with them: a forger, and a
// virtual SE that has not synced since (its own revocation list does not
// name it, so it signs). The ledger refuses both.
type onlineRevoked struct{}

func (onlineRevoked) kind() string { return "online-revoked" }

func (onlineRevoked) plan(g *gen, a *AttackSpec) []Step {
	per, _ := g.lim()
	m := g.attacker()
	f, d := g.device(m, -1, true), g.device(m, -1, false)
	to := g.victim()
	a.Devices, a.Victims = []int{f, d}, []int{to}
	s := []Step{{Op: opEnrol, Dev: f}, {Op: opEnrol, Dev: d}, {Op: opDeposit, Dev: m, Amount: 2 * per},
		{Op: opOnline, Dev: d, Peer: to, Amount: 1 + g.r.Int64N(per)}, // paid while it is not revoked
		{Op: opRevoke, Dev: f}, {Op: opRevoke, Dev: d}}
	for range 1 + g.r.IntN(2) {
		s = append(s, Step{Op: opOnline, Dev: f, Peer: to, Amount: 1 + g.r.Int64N(per)},
			Step{Op: opOnline, Dev: d, Peer: to, Amount: 1 + g.r.Int64N(per)})
	}
	s = append(s, Step{Op: opReplayOnline, Peer: d, Amount: g.r.Int64N(1 << 20)})
	return append(s, cashOut(m))
}

// onlineForeignRequest is a forger that pays online a request naming an
// honest payee's certificate but signed with its own key, a device of
// another account: the ledger checks the request's signature against the
// payee it names, and refuses.
type onlineForeignRequest struct{}

func (onlineForeignRequest) kind() string { return "online-foreign-request" }

func (onlineForeignRequest) plan(g *gen, a *AttackSpec) []Step {
	per, _ := g.lim()
	m := g.attacker()
	f := g.device(m, -1, true)
	to := g.victim()
	a.Devices, a.Victims = []int{f}, []int{to}
	s := []Step{{Op: opEnrol, Dev: f}, {Op: opDeposit, Dev: m, Amount: per}}
	for range 1 + g.r.IntN(3) {
		s = append(s, Step{Op: opOnline, Dev: f, Peer: to, Amount: 1 + g.r.Int64N(per), Mode: foreignRequest})
	}
	return append(s, cashOut(m))
}
