package sim

import (
	"context"
	"testing"
)

// TestOnlineTraffic: honest traffic pays online, sends a payment again
// (the same receipt, nothing moves) and, by a modified wallet, pays a
// request online and from the purse too, with every invariant holding.
func TestOnlineTraffic(t *testing.T) {
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
	for _, k := range []string{"online: paid", "online: sent again", "online: paid from the purse too"} {
		if seen[k] == 0 {
			t.Errorf("no %q in 6 seeds: %v", k, seen)
		}
	}
}

// TestLostLoadPaidToColluder: a load the ledger lost in a regression,
// the account withdrawn, the purse paying a colluding attacker's device
// (online-race's steps, shrunk): the operator's loss is the lost load's,
// within the bound (it failed loss-above-bound before the bound counted
// lost loads whoever the purse pays).
func TestLostLoadPaidToColluder(t *testing.T) {
	p, err := Generate(1052, Short())
	if err != nil {
		t.Fatal(err)
	}
	keep, err := ParseSteps("23-27,29,56,75,77")
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[27].Op != opReserve || p.Steps[29].Op != opRegress || p.Steps[75].Op != opPay {
		t.Fatalf("seed 1052 generates another program now: find the case again (online-race with --regress)")
	}
	r, err := RunProgram(context.Background(), p, keep)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) > 0 {
		t.Fatal(r.Worst())
	}
	if r.Final == nil || r.Final.TrueLoss == 0 {
		t.Fatalf("no loss: the case no longer loses a load: %+v", r.Final)
	}
}
