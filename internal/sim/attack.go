package sim

import "slices"

// attack is one entry of the catalogue: it allocates its attacker's
// people and devices and returns its steps, in the order they must happen;
// the generator interleaves them with honest traffic. Every attack's
// outcome is judged by the same invariants as everything else
// (invariants.go), so an attack needs no verdict of its own.
type attack interface {
	kind() string
	plan(g *gen, a *AttackSpec) []Step
}

// catalogue is every attack the simulator knows, in a fixed order (seeds
// index into it).
var catalogue = []attack{
	cloneSame{},
	cloneSame{samePayee: true},
	cloneDistinct{},
	keyxHugeCounter{},
	keyxOverspend{},
	keyxOverspend{silent: true},
	keyxOverLimit{},
	keyxSpree{},
	payeeRollback{},
	collude{},
	replay{},
	keyxRefund{},
	onlineReplay{},
	onlineRace{},
	onlineRevoked{},
	onlineForeignRequest{},
}

// KindNames lists the catalogue's kinds.
func KindNames() []string {
	var out []string
	for _, a := range catalogue {
		out = append(out, a.kind())
	}
	return out
}

func kindByName(name string) attack {
	for _, a := range catalogue {
		if a.kind() == name {
			return a
		}
	}
	return nil
}

// Hole is a weakness of today's ledger that the simulator finds.
type Hole struct {
	N     int
	Kinds []string // catalogue kinds that find it ("traffic:..." for honest traffic)
	What  string
}

// KnownHoles are the ledger holes the simulator finds on the main branch
// today. Config.SkipKnown leaves out what finds them, so that CI can run
// every other scenario; when the ledger fixes a hole, delete its row here
// (and flip its row in TestKnownHoles) so that CI covers it from then on.
// The six it found (README "Simulator") are all fixed: a 2^62 counter
// switching recovery off, a distinct-counter clone that never syncs, a
// rolled-back payee's receipt ignored, payments to a lost payee pending
// for ever, an overspend its own log proves left unrevoked, an honest
// payee refused after two copies of a clone paid it at one counter.
var KnownHoles = []Hole{}

// knownHole returns the known hole kind finds, or 0.
func knownHole(kind string) int {
	for _, h := range KnownHoles {
		if slices.Contains(h.Kinds, kind) {
			return h.N
		}
	}
	return 0
}

// Helpers for plans.

func (g *gen) attacker() int { return g.person(false, true) }

// victim is an honest device that takes payments and will not be lost: a
// merchant's half the time (shops take payments from strangers, and sync
// often enough to hold a fresh revocation list).
func (g *gen) victim() int {
	if g.r.IntN(2) == 0 {
		return pick(g.r, g.takers[:g.merchants])
	}
	for {
		if d := pick(g.r, g.takers); !g.p.Devices[d].Lose {
			return d
		}
	}
}

// victimPayer is a new honest person with one funded device that only the
// attack's steps use (so that honest traffic does not sync it at a moment
// that hides the attack); the drain syncs it like everyone.
func (g *gen) victimPayer(amount int64) (int, []Step) {
	p := g.person(false, false)
	d := g.device(p, -1, false)
	return d, []Step{{Op: opEnrol, Dev: d}, {Op: opDeposit, Dev: p, Amount: amount}, {Op: opReserve, Dev: d, Amount: amount}}
}

// spend pays total from d to the victims in payments of at most the
// per-payment limit, round robin.
func (g *gen) spend(d int, victims []int, total int64) []Step {
	per, _ := g.lim()
	var s []Step
	for i := 0; total > 0; i++ {
		amt := min(total, per, 1+g.r.Int64N(per))
		s = append(s, Step{Op: opPay, Dev: d, Peer: victims[i%len(victims)], Amount: amt})
		total -= amt
	}
	return s
}

func syncs(ds ...int) []Step {
	var s []Step
	for _, d := range ds {
		s = append(s, Step{Op: opSync, Dev: d})
	}
	return s
}

// cashOut is the attacker withdrawing everything it can.
func cashOut(p int) Step { return Step{Op: opWithdraw, Dev: p, Amount: -1} }

// replay sends applied uploads to the ledger again and shows accepted
// payments to their payees again (and to other payees): all of it must
// change nothing.
type replay struct{}

func (replay) kind() string { return "replay" }

func (replay) plan(g *gen, a *AttackSpec) []Step {
	var s []Step
	for i := 0; i < 3+g.r.IntN(4); i++ {
		o := opReplayUpload
		if g.r.IntN(2) == 0 {
			o = opReplayBundle
		}
		s = append(s, Step{Op: o, Amount: g.r.Int64N(1 << 20)})
		s = append(s, Step{Op: opAdvance, Amount: 600 + g.r.Int64N(7200)})
	}
	return s
}
