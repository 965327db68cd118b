package sim

import (
	"fmt"
	"math/rand/v2"
)

// gen builds a Program from a seed. It keeps a rough model of purses and
// accounts only to choose plausible amounts: the SEs and the ledger decide
// what happens, and a step they refuse is simply a refused step.
type gen struct {
	r      *rand.Rand
	cfg    Config
	p      *Program
	setup  []Step
	bal    []int64 // purse per device (rough)
	acct   []int64 // account per person (rough)
	fresh  []bool  // the device received value since its last sync
	lost   []bool
	away   []int // days a device stays away
	payers []int // honest people's devices
	takers []int // honest devices that take payments: the merchants' first
	// merchants is how many of takers are merchants' devices.
	merchants int
	// sales are, per merchant device, the payments to it of the last
	// days (refund candidates); today counts the days of traffic.
	sales map[int][]sale
	today int
}

// sale is a payment to a merchant's device, as the generator planned it.
type sale struct {
	payer  int
	amount int64
	day    int
}

// Generate returns the program of seed under cfg.
func Generate(seed uint64, cfg Config) (*Program, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x0ff9a75e)), cfg: cfg, p: &Program{Seed: seed, Config: cfg}}
	g.population()
	var plans [][]Step
	kinds := cfg.kinds()
	n := 0
	for i := 0; i < cfg.Attacks; i++ {
		a := kinds[g.r.IntN(len(kinds))]
		g.p.Attacks = append(g.p.Attacks, AttackSpec{Kind: a.kind()})
		steps := a.plan(g, &g.p.Attacks[i])
		for k := range steps {
			steps[k].Attack = i + 1
		}
		plans = append(plans, steps)
		n += len(steps)
	}
	traffic := g.traffic(max(cfg.Steps-n, cfg.Steps/2, 1))
	g.p.Steps = append(g.setup, g.regressions(g.merge(traffic, plans))...)
	return g.p, nil
}

func (g *gen) person(merchant, attacker bool) int {
	i := len(g.p.People)
	name := fmt.Sprintf("p%d", i)
	switch {
	case merchant:
		name = fmt.Sprintf("shop%d", i)
	case attacker:
		name = fmt.Sprintf("mal%d", i)
	}
	g.p.People = append(g.p.People, PersonSpec{Name: name, Merchant: merchant, Attacker: attacker})
	g.acct = append(g.acct, 0)
	return i
}

func (g *gen) device(owner, cloneOf int, forged bool) int {
	g.p.Devices = append(g.p.Devices, DeviceSpec{Owner: owner, CloneOf: cloneOf, Forged: forged})
	g.bal = append(g.bal, 0)
	g.fresh = append(g.fresh, false)
	g.lost = append(g.lost, false)
	g.away = append(g.away, 0)
	return len(g.p.Devices) - 1
}

func (g *gen) merchant(d int) bool { return g.p.People[g.p.Devices[d].Owner].Merchant }

func (g *gen) lim() (perPayment, holding int64) {
	l := g.cfg.Policy.Person
	return int64(l.PerPayment), int64(l.Holding)
}

// population enrols the honest people and merchants and funds the people.
func (g *gen) population() {
	n := g.cfg.Devices
	merchants := max(1, n/5)
	for i := 0; i < n; {
		merchant := i < merchants
		p := g.person(merchant, false)
		devs := 1
		if !merchant && i+1 < n && g.r.IntN(6) == 0 {
			devs = 2
		}
		for k := 0; k < devs; k++ {
			d := g.device(p, -1, false)
			g.setup = append(g.setup, Step{Op: opEnrol, Dev: d})
			g.takers = append(g.takers, d)
			if merchant {
				g.merchants++
			} else {
				g.payers = append(g.payers, d)
				g.p.Devices[d].Lose = g.r.Float64() < g.cfg.LoseShare
			}
			i++
		}
		if !merchant {
			amt := 20000 + g.r.Int64N(130000)
			g.setup = append(g.setup, Step{Op: opDeposit, Dev: p, Amount: amt})
			g.acct[p] += amt
			for _, d := range g.payers[len(g.payers)-devs:] {
				g.setup = append(g.setup, g.reserveOf(d)...)
			}
		}
	}
}

// traffic is honest activity, day by day, until n steps (or, with
// Config.Days, for that many days).
func (g *gen) traffic(n int) []Step {
	var out []Step
	for day := 0; ; day++ {
		if g.cfg.Days > 0 && day >= g.cfg.Days || g.cfg.Days == 0 && len(out) >= n {
			break
		}
		g.today = day
		out = append(out, g.day()...)
	}
	if g.cfg.Days == 0 {
		out = out[:n]
	}
	return out
}

// day is one day: each device acts or not, in a random order spread over
// the waking hours, then the night passes. Devices go away for days at a
// time, and now and then nobody does anything all day.
func (g *gen) day() []Step {
	if g.r.IntN(25) == 0 {
		return []Step{{Op: opAdvance, Amount: 86400}}
	}
	var acts [][]Step
	add := func(s []Step) {
		if len(s) > 0 {
			acts = append(acts, s)
		}
	}
	for _, d := range g.takers {
		switch {
		case g.lost[d]:
			continue
		case g.away[d] > 0:
			g.away[d]--
			continue
		case g.r.IntN(30) == 0:
			g.away[d] = 1 + g.r.IntN(6)
			continue
		}
		o := g.p.Devices[d].Owner
		if g.merchant(d) {
			if g.r.IntN(8) == 0 {
				add(g.refund(d))
			}
			if g.r.IntN(5) > 0 {
				add(g.syncOf(d))
			}
			if g.r.IntN(10) == 0 {
				add(g.withdraw(o))
			}
			continue
		}
		switch x := g.r.IntN(10); {
		case x < 4:
			add(g.pay(d))
		case x < 5:
			add(g.pay(d))
			add(g.pay(d))
		}
		if g.r.IntN(20) < 9 {
			add(g.syncOf(d))
		}
		if g.r.IntN(10) == 0 {
			add(g.reserveOf(d))
		}
		if g.r.IntN(30) == 0 {
			add(g.redeem(d))
		}
		if g.r.IntN(30) == 0 {
			add(g.deposit(o))
		}
		if g.r.IntN(40) == 0 {
			add(g.withdraw(o))
		}
		if g.p.Devices[d].Lose && g.r.IntN(12) == 0 {
			g.lost[d] = true
			add([]Step{{Op: opLose, Dev: d}})
		}
	}
	if g.r.IntN(3) == 0 {
		add([]Step{{Op: opAssess}})
	}
	g.r.Shuffle(len(acts), func(i, j int) { acts[i], acts[j] = acts[j], acts[i] })
	// The waking hours in a few slices, the acts spread over them.
	slices := min(8, len(acts)/2+1)
	var out []Step
	for i, a := range acts {
		if i > 0 && i%((len(acts)+slices-1)/slices) == 0 {
			out = append(out, Step{Op: opAdvance, Amount: 16 * 3600 / int64(slices)})
		}
		out = append(out, a...)
	}
	return append(out, Step{Op: opAdvance, Amount: 8*3600 + g.r.Int64N(3600)})
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pay is one payment by payer: to a merchant half the time.
func (g *gen) pay(payer int) []Step {
	payee := pick(g.r, g.takers)
	if g.r.IntN(2) == 0 {
		payee = pick(g.r, g.takers[:g.merchants])
	}
	if payee == payer || g.lost[payee] {
		return nil
	}
	if g.cfg.SkipKnown && g.p.Devices[payee].Lose {
		return nil // hole 4: a payee never seen again leaves a torn or refused payment pending for ever
	}
	// A device to be lost never pays on value it received since its last
	// sync: if it did and was then lost, that value's arrival would be
	// provable to nobody, and its owner would rightly be charged for it.
	if g.p.Devices[payer].Lose && g.fresh[payer] {
		return nil
	}
	if g.r.IntN(5) == 0 {
		return g.online(payer, payee)
	}
	per, _ := g.lim()
	amt := 1 + g.r.Int64N(max(1, min(g.bal[payer], per)))
	m := delivered
	switch x := g.r.IntN(100); {
	case x < 7:
		m = lostPayment
	case x < 14:
		m = lostReceipt
	}
	g.bal[payer] -= amt
	if m != lostPayment {
		g.bal[payee] += amt
		g.fresh[payee] = true
		if g.merchant(payee) {
			if g.sales == nil {
				g.sales = map[int][]sale{}
			}
			g.sales[payee] = append(g.sales[payee], sale{payer: payer, amount: amt, day: g.today})
		}
	}
	return []Step{{Op: opPay, Dev: payer, Peer: payee, Amount: amt, Mode: m}}
}

// online is a payment made online, from the payer's account (a fifth of
// payments): now and then sent twice, and now and then paid from the
// purse too by a modified wallet (which costs only its owner).
func (g *gen) online(payer, payee int) []Step {
	per, _ := g.lim()
	o, q := g.p.Devices[payer].Owner, g.p.Devices[payee].Owner
	if g.acct[o] <= 0 || o == q {
		return nil
	}
	amt := 1 + g.r.Int64N(min(g.acct[o], per))
	m := delivered
	switch x := g.r.IntN(10); {
	case x < 2:
		m = retried
	case x < 3 && !(g.p.Devices[payer].Lose && g.fresh[payer]):
		m = bothWays
		g.bal[payer] -= amt
		g.bal[payee] += amt
		g.fresh[payee] = true
	}
	g.acct[o] -= amt
	g.acct[q] += amt
	return []Step{{Op: opOnline, Dev: payer, Peer: payee, Amount: amt, Mode: m}}
}

// refund is a merchant's device refunding one of its sales of the last
// two days (the SE refunds within three days of ledger time), all of it
// or part; its refund code is now and then never scanned, or its receipt
// never comes back.
func (g *gen) refund(d int) []Step {
	var recent []sale
	for _, s := range g.sales[d] {
		if s.day >= g.today-2 {
			recent = append(recent, s)
		}
	}
	if len(recent) == 0 {
		delete(g.sales, d)
		return nil
	}
	i := g.r.IntN(len(recent))
	s := recent[i]
	g.sales[d] = append(recent[:i], recent[i+1:]...)
	if g.lost[s.payer] {
		return nil
	}
	amt := s.amount
	if g.r.IntN(2) == 0 {
		amt = 1 + g.r.Int64N(s.amount)
	}
	m := delivered
	switch x := g.r.IntN(100); {
	case x < 5:
		m = lostPayment
	case x < 10:
		m = lostReceipt
	}
	if m != lostPayment {
		g.bal[s.payer] += amt
		g.acct[g.p.Devices[d].Owner] -= amt
	}
	return []Step{{Op: opRefund, Dev: d, Peer: s.payer, Amount: amt, Mode: m}}
}

func (g *gen) syncOf(d int) []Step {
	if g.lost[d] {
		return nil
	}
	if g.merchant(d) {
		g.acct[g.p.Devices[d].Owner] += g.bal[d]
		g.bal[d] = 0
	}
	g.fresh[d] = false
	return []Step{{Op: opSync, Dev: d}}
}

func (g *gen) reserveOf(d int) []Step {
	_, hold := g.lim()
	o := g.p.Devices[d].Owner
	room := min(hold-g.bal[d], g.acct[o])
	if room <= 0 || g.lost[d] {
		return nil
	}
	amt := 1 + g.r.Int64N(room)
	g.acct[o] -= amt
	g.bal[d] += amt
	return []Step{{Op: opReserve, Dev: d, Amount: amt}}
}

func (g *gen) redeem(d int) []Step {
	if g.bal[d] <= 1 || g.lost[d] {
		return nil
	}
	amt := 1 + g.r.Int64N(g.bal[d]/2)
	g.bal[d] -= amt
	g.acct[g.p.Devices[d].Owner] += amt
	return []Step{{Op: opRedeem, Dev: d, Amount: amt}}
}

func (g *gen) deposit(p int) []Step {
	amt := 5000 + g.r.Int64N(50000)
	g.acct[p] += amt
	return []Step{{Op: opDeposit, Dev: p, Amount: amt}}
}

func (g *gen) withdraw(p int) []Step {
	if g.acct[p] <= 0 {
		return nil
	}
	amt := 1 + g.r.Int64N(g.acct[p])
	g.acct[p] -= amt
	return []Step{{Op: opWithdraw, Dev: p, Amount: amt}}
}

// merge interleaves the attacks' step lists into the traffic, each in its
// own order, starting in the first half of the run.
func (g *gen) merge(traffic []Step, plans [][]Step) []Step {
	at := make([][]int, len(traffic)+1)
	for j, plan := range plans {
		pos := g.r.IntN(len(traffic)/2 + 1)
		for i, s := range plan {
			if s.Op == opGap {
				pos = min(len(traffic), pos+int(s.Amount*int64(len(traffic))/1000))
				continue
			}
			at[pos] = append(at[pos], j<<16|i)
			pos = min(len(traffic), pos+g.r.IntN(4))
		}
	}
	out := make([]Step, 0, len(traffic)+len(plans)*8)
	for i := 0; i <= len(traffic); i++ {
		for _, x := range at[i] {
			out = append(out, plans[x>>16][x&0xffff])
		}
		if i < len(traffic) {
			out = append(out, traffic[i])
		}
	}
	return out
}
