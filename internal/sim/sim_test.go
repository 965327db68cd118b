package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
)

func text(t *testing.T, r *Result) []byte {
	t.Helper()
	var b bytes.Buffer
	r.WriteText(&b)
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return append(b.Bytes(), j...)
}

// TestDeterministic: the same seed gives the same report, byte for byte,
// although every run has fresh SE keys, a fresh database and its own
// goroutine scheduling.
func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	cfgs := []Config{Short(), Short()}
	cfgs[1].Attacks, cfgs[1].Steps = 4, 120
	seeds := uint64(3)
	if raceEnabled || testing.Short() {
		seeds = 1
	}
	for i, cfg := range cfgs {
		for seed := uint64(1); seed <= seeds; seed++ {
			a, err := Run(ctx, seed, cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Run(ctx, seed, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if ta, tb := text(t, a), text(t, b); !bytes.Equal(ta, tb) {
				t.Errorf("config %d seed %d: two runs differ:\n%s\n----\n%s", i, seed, ta, tb)
			}
		}
	}
	p1, _ := Generate(7, Default())
	p2, _ := Generate(7, Default())
	if !slices.Equal(p1.Steps, p2.Steps) {
		t.Error("one seed generated two programs")
	}
}

// TestShrinkPlanted plants a failure that needs three particular steps
// (two payments accepted by one payee, then that payee's sync) and checks
// that the shrinker finds those steps and little else.
func TestShrinkPlanted(t *testing.T) {
	ctx := context.Background()
	p, err := Generate(11, Short())
	if err != nil {
		t.Fatal(err)
	}
	p.plant = func(w *world) {
		s := w.p.Steps[w.step]
		if s.Op != opSync {
			return
		}
		n := 0
		for _, pay := range w.pays {
			if pay.accepted && pay.payee == s.Dev {
				n++
			}
		}
		if n >= 2 {
			w.violate("planted", "%s synced after accepting %d payments", w.name(s.Dev), n)
		}
	}
	r, err := RunProgram(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Has("planted") {
		t.Fatal("the planted failure did not happen; pick another seed")
	}
	sh, err := Shrink(ctx, r, 400)
	if err != nil {
		t.Fatal(err)
	}
	var pays, syncs int
	for _, i := range sh.Keep {
		switch p.Steps[i].Op {
		case opPay:
			pays++
		case opSync:
			syncs++
		}
	}
	t.Logf("%d steps shrunk to %d in %d runs", r.Steps, len(sh.Keep), sh.Runs)
	if !sh.Result.Has("planted") || pays != 2 || syncs != 1 || len(sh.Keep) > 10 {
		var b bytes.Buffer
		sh.WriteText(&b, "offpay sim --seed 11 --short")
		t.Errorf("shrunk to %d pays, %d syncs:\n%s", pays, syncs, b.String())
	}
	// The shrunk steps replay to the same failure.
	again, err := RunProgram(ctx, p, sh.Keep)
	if err != nil || !again.Has("planted") {
		t.Errorf("replaying the shrunk steps: %v, %v", err, again.Violations)
	}
}

func TestStepsText(t *testing.T) {
	for _, keep := range [][]int{{0}, {0, 1, 2, 5, 7, 8, 9, 20}, {3, 5}} {
		s := FormatSteps(keep)
		got, err := ParseSteps(s)
		if err != nil || !slices.Equal(got, keep) {
			t.Errorf("%v -> %q -> %v, %v", keep, s, got, err)
		}
	}
	for _, bad := range []string{"", "3-1", "1,1", "5,2", "x", "-1"} {
		if _, err := ParseSteps(bad); err == nil {
			t.Errorf("ParseSteps(%q) accepted", bad)
		}
	}
}

// TestSeeds runs many short seeds with everything but the known holes:
// every invariant must hold. `offpay sim --seeds A..B --short --skip-known`
// is the same at a larger scale.
func TestSeeds(t *testing.T) {
	n := uint64(200)
	switch {
	case raceEnabled:
		n = 12
	case testing.Short():
		n = 40
	}
	cfg := Short()
	cfg.SkipKnown = true
	b, err := RunSeeds(context.Background(), 1, n, cfg, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d seeds in %.1f s: %.1f seeds/s", b.Runs, b.Elapsed.Seconds(), b.SeedsPerSecond())
	for _, r := range b.Failed {
		var buf bytes.Buffer
		r.WriteText(&buf)
		t.Errorf("%s(replay: offpay sim --seed %d --short --skip-known)", buf.String(), r.Seed)
	}
}

// TestHonestRefunds: honest traffic has shops refunding sales, in part
// or in full, some codes never scanned and some receipts lost; every
// invariant holds (each shop's ledger position equals its till's purse,
// no honest party loses, nothing is left pending).
func TestHonestRefunds(t *testing.T) {
	cfg := Short()
	cfg.Attacks = 0
	seen := map[string]int{}
	for seed := uint64(1); seed <= 6; seed++ {
		r, err := Run(context.Background(), seed, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Violations) > 0 {
			t.Fatalf("seed %d: %v", seed, r.Worst())
		}
		for k, n := range r.Stats {
			seen[k] += n
		}
	}
	if seen["refund: delivered"] == 0 {
		t.Fatalf("no refund delivered in 6 seeds: %v", seen)
	}
}
