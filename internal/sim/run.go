package sim

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Summary is the ledger's state after the drain, with what the operator
// really lost and the bound that loss must stay within.
type Summary struct {
	Figures
	TrueLoss int64 `json:"true_loss_minor"` // liabilities - (deposits - withdrawals): see doc.go
	Bound    int64 `json:"loss_bound_minor"`
}

// Result is one run. Its Text is a deterministic function of the seed,
// the configuration and the steps run.
type Result struct {
	Seed       uint64         `json:"seed"`
	Steps      int            `json:"steps"` // steps run
	Program    *Program       `json:"-"`
	Keep       []int          `json:"-"` // the steps run (nil: all)
	Violations []Violation    `json:"violations"`
	Final      *Summary       `json:"final,omitempty"` // nil when a step failed
	Stats      map[string]int `json:"stats"`
}

// Failed says whether an invariant failed.
func (r *Result) Failed() bool { return len(r.Violations) > 0 }

// Has says whether invariant failed in r.
func (r *Result) Has(invariant string) bool {
	for _, v := range r.Violations {
		if v.Invariant == invariant {
			return true
		}
	}
	return false
}

// Run generates the program of seed under cfg and runs all of it.
func Run(ctx context.Context, seed uint64, cfg Config) (*Result, error) {
	p, err := Generate(seed, cfg)
	if err != nil {
		return nil, err
	}
	return RunProgram(ctx, p, nil)
}

// RunProgram runs the steps keep of p (nil: every step), then the drain
// and the final checks. It stops at the first step after which an
// invariant fails.
func RunProgram(ctx context.Context, p *Program, keep []int) (*Result, error) {
	w, err := newWorld(ctx, p)
	if err != nil {
		return nil, err
	}
	defer w.close()
	steps := keep
	if steps == nil {
		steps = make([]int, len(p.Steps))
		for i := range steps {
			steps[i] = i
		}
	}
	res := &Result{Seed: p.Seed, Program: p, Keep: keep}
	for n, i := range steps {
		if i < 0 || i >= len(p.Steps) {
			return nil, fmt.Errorf("sim: step %d: the program has %d steps", i, len(p.Steps))
		}
		w.step = i
		w.now += 60
		if err := w.exec(p.Steps[i]); err != nil {
			return nil, fmt.Errorf("sim: seed %d step %d (%s): %w", p.Seed, i, p.Steps[i].Op, err)
		}
		if err := w.reenter(); err != nil {
			return nil, err
		}
		w.cheap()
		if p.plant != nil {
			p.plant(w)
		}
		if p.tick != nil {
			p.tick()
		}
		res.Steps++
		if every := p.Config.CheckEvery; (w.fail == nil || p.Config.KeepGoing) && every > 0 && (n+1)%every == 0 {
			if _, err := w.ledgerChecks(); err != nil {
				return nil, err
			}
		}
		if w.fail != nil && !p.Config.KeepGoing {
			break
		}
	}
	if w.fail == nil || p.Config.KeepGoing {
		if err := w.drain(); err != nil {
			return nil, fmt.Errorf("sim: seed %d drain: %w", p.Seed, err)
		}
		if res.Final, err = w.final(); err != nil {
			return nil, fmt.Errorf("sim: seed %d final checks: %w", p.Seed, err)
		}
	}
	res.Violations, res.Stats = w.viols, w.stats
	return res, nil
}

// summary computes the operator's true loss and its bound (doc.go).
func (w *world) summary(r *ledger.Report, dr map[protocol.KeyID]*ledger.DeviceReport, content []int64) *Summary {
	s := &Summary{Figures: figures(r)}
	// What the SEs holding a key could still redeem: the ledger's position
	// of a device that has not uploaded everything overstates it.
	purse := map[protocol.KeyID]int64{}
	vse := map[protocol.KeyID]bool{}
	for _, dv := range w.devs {
		if dv.enrolled && dv.se != nil {
			st, err := dv.se.Status(uint64(w.now))
			if err == nil {
				purse[dv.id] += int64(st.Balance)
				vse[dv.id] = true
			}
		}
	}
	liab := r.Accounts
	for d, dv := range w.devs {
		rep := dr[dv.id]
		if !dv.enrolled || rep == nil || w.byKey[dv.id] != d {
			continue
		}
		switch {
		case w.honest(d) && !dv.lost:
			// Less a lost load's forfeit: its owner's debt without fraud,
			// shown in the report's device row and recovered from the
			// account when the purse spends it (regress.go).
			liab += content[d] - w.lostLoadForfeit(d, rep, content[d])
		case w.honest(d):
			liab += max(0, rep.Position) // a lost purse: what the ledger holds for it
		case rep.Status != "revoked":
			// an attacker's purse the ledger would still honour
			v := rep.Position
			if vse[dv.id] {
				v = min(v, purse[dv.id])
			}
			liab += max(0, v)
		}
	}
	s.TrueLoss = liab - (w.in - w.out)
	// After the ledger went back in time, an attacker's purse holds loads
	// whose debit the ledger lost with its commits and that its device
	// never gives back (regress.go): what the ledger loaded is then what
	// its report says, not what it once signed.
	ledgerLoaded := make([]int64, len(w.people))
	for d, dv := range w.devs {
		if rep := dr[dv.id]; rep != nil && dv.enrolled && w.byKey[dv.id] == d {
			ledgerLoaded[dv.spec.Owner] += rep.Loaded
		}
	}
	// Those lost loads are the operator's loss whoever the purse then
	// pays: an honest payee, or a colluding attacker's device, whose
	// account the ledger credits when it settles (found by online-race:
	// offpay sim --seed 1052 --short --steps 23-27,29,56,75,77).
	for p, ps := range w.people {
		if ps.spec.Attacker {
			s.Bound += max(0, ps.honestOut-ps.honestIn-ps.loaded)
			if w.regressed > 0 {
				s.Bound += max(0, ps.loaded-ledgerLoaded[p])
			}
		}
	}
	return s
}

// WriteText writes r for people: the verdict, the violations, the
// ledger's figures after the drain and the outcome counts.
func (r *Result) WriteText(out io.Writer) {
	p := r.Program
	var kinds []string
	for _, a := range p.Attacks {
		kinds = append(kinds, a.Kind)
	}
	verdict := "ok"
	if r.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(out, "seed %d: %s: %d steps, %d devices, %d people, attacks [%s]\n", r.Seed, verdict, r.Steps,
		len(p.Devices), len(p.People), strings.Join(kinds, " "))
	const show = 20
	for i, v := range r.Violations {
		if i == show {
			fmt.Fprintf(out, "  ... and %d more\n", len(r.Violations)-show)
			break
		}
		fmt.Fprintf(out, "  %s\n", v)
	}
	if f := r.Final; f != nil {
		fmt.Fprintf(out, "ledger after the drain: issued %s, accounts %s, outstanding %s, losses %s, unassessed %s, recovered %s,"+
			" settled %d, revoked %d, double spends %d; true loss %s, bound %s\n",
			money(f.Issued), money(f.Accounts), money(f.Outstanding), money(f.Losses), money(f.Unassessed), money(f.Recovered),
			f.Settled, f.Revoked, f.Proofs, money(f.TrueLoss), money(f.Bound))
	}
	fmt.Fprintf(out, "outcomes:\n%s", stats(r.Stats))
}
