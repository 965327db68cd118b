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
