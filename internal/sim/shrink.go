package sim

import (
	"context"
	"fmt"
	"io"
)

// Shrunk is a reduced reproduction of a violation.
type Shrunk struct {
	Invariant string
	Keep      []int   // the steps kept, in order
	Result    *Result // the run of those steps
	Runs      int     // runs it took
}

// Shrink reduces the steps of a failing run to a few that still fail the
// same invariant (its worst: Result.Worst), and nothing worse (a subset
// that fails worse has drifted to another bug): first it drops whole attacks, devices and people (every
// step that involves them), then single steps by delta debugging (ddmin),
// until no single step can go or maxRuns runs are spent. Steps after the
// one that failed are dropped first: they never ran.
func Shrink(ctx context.Context, r *Result, maxRuns int) (*Shrunk, error) {
	if !r.Failed() {
		return nil, fmt.Errorf("sim: nothing to shrink: seed %d passed", r.Seed)
	}
	p, v := r.Program, r.Worst()
	keep := r.Keep
	if keep == nil {
		keep = make([]int, len(p.Steps))
		for i := range keep {
			keep[i] = i
		}
	}
	if v.Step >= 0 {
		for i, s := range keep {
			if s == v.Step {
				keep = keep[:i+1]
				break
			}
		}
	}
	sh := &Shrunk{Invariant: v.Invariant, Keep: keep, Result: r}
	var err error
	test := func(cand []int) bool {
		if err != nil || sh.Runs >= maxRuns || len(cand) == 0 {
			return false
		}
		sh.Runs++
		res, e := RunProgram(ctx, p, cand)
		if e != nil {
			err = e
			return false
		}
		if res.Has(v.Invariant) && rank(res.Worst().Invariant) >= rank(v.Invariant) {
			sh.Keep, sh.Result = cand, res
			return true
		}
		return false
	}
	if len(keep) < len(p.Steps) && !test(keep) {
		// Cut short, it no longer fails (a final check needs the steps
		// after): start from everything.
		sh.Keep = r.Keep
		if sh.Keep == nil {
			sh.Keep = all(len(p.Steps))
		}
	}
	for _, group := range groups(p) {
		cand := without(sh.Keep, group)
		if len(cand) < len(sh.Keep) {
			test(cand)
		}
	}
	ddmin(sh.Keep, test)
	return sh, err
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// groups are the step sets to try dropping whole: each attack's steps,
// each device's, each person's deposits and withdrawals.
func groups(p *Program) [][]int {
	var out [][]int
	for a := range p.Attacks {
		var g []int
		for i, s := range p.Steps {
			if s.Attack == a+1 {
				g = append(g, i)
			}
		}
		out = append(out, g)
	}
	for d := len(p.Devices) - 1; d >= 0; d-- {
		var g []int
		for i, s := range p.Steps {
			for _, t := range p.touches(s) {
				if t == d {
					g = append(g, i)
					break
				}
			}
		}
		out = append(out, g)
	}
	for who := range p.People {
		var g []int
		for i, s := range p.Steps {
			if (s.Op == opDeposit || s.Op == opWithdraw) && s.Dev == who {
				g = append(g, i)
			}
		}
		out = append(out, g)
	}
	return out
}

// without returns keep less the steps in drop (both sorted).
func without(keep, drop []int) []int {
	out := make([]int, 0, len(keep))
	j := 0
	for _, k := range keep {
		for j < len(drop) && drop[j] < k {
			j++
		}
		if j < len(drop) && drop[j] == k {
			continue
		}
		out = append(out, k)
	}
	return out
}

// ddmin is Zeller's delta debugging: it removes chunks of keep, halving
// them down to single steps, while test still passes. test records the
// smallest list it passed.
func ddmin(keep []int, test func([]int) bool) {
	n := 2
	for len(keep) >= 2 {
		size := (len(keep) + n - 1) / n
		reduced := false
		for lo := 0; lo < len(keep); lo += size {
			cand := append(append([]int{}, keep[:lo]...), keep[min(lo+size, len(keep)):]...)
			if test(cand) {
				keep, n, reduced = cand, max(n-1, 2), true
				break
			}
		}
		if !reduced {
			if n >= len(keep) {
				return
			}
			n = min(2*n, len(keep))
		}
	}
}

// WriteText writes the reproduction: the steps, the violation and the
// command that replays it.
func (s *Shrunk) WriteText(out io.Writer, command string) {
	p := s.Result.Program
	fmt.Fprintf(out, "shrunk to %d of %d steps in %d runs (%s):\n", len(s.Keep), len(p.Steps), s.Runs, s.Invariant)
	for _, i := range s.Keep {
		fmt.Fprintln(out, p.Describe(i))
	}
	for _, v := range s.Result.Violations {
		if v.Invariant == s.Invariant {
			fmt.Fprintf(out, "fails: %s\n", v)
			break
		}
	}
	fmt.Fprintf(out, "replay: %s --steps %s\n", command, FormatSteps(s.Keep))
}
