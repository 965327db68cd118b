package sim

import (
	"context"
	"strings"
	"testing"
)

// exercised lists, for each attack kind, outcomes of its own steps that
// show it ran its course (as "attack KIND: OUTCOME" in the stats).
var exercised = map[string][]string{
	"clone-same":            {"clone", "pay: delivered", "sync"},
	"clone-same-payee":      {"clone", "pay: delivered", "sync"},
	"clone-distinct":        {"clone", "redeem", "pay: delivered"},
	"keyx-huge-counter":     {"pay: delivered", "redeem", "sync", "withdraw: refused forbidden"}, // revoked, its account frozen: the cash-out fails
	"keyx-overspend":        {"pay: delivered", "sync"},
	"keyx-overspend-silent": {"pay: delivered"},
	"keyx-over-limit":       {"pay: payee refused limit_exceeded", "sync: refused invalid"},
	"payee-rollback":        {"snapshot", "pay: delivered", "rollback", "sync"},
	"collude":               {"snapshot", "pay: delivered", "rollback", "sync"},
	"keyx-spree":            {"pay: delivered"},
	"replay":                {"replay-upload", "replay-bundle: refused"},
	// the customers' SEs refuse the refund above the sale and the second
	// one; the till is revoked and its shop frozen: the cash-out fails
	"keyx-refund": {"pay: delivered", "refund: delivered", "refund: customer refused limit_exceeded/refund",
		"refund: customer refused already_refunded", "sync: refused forbidden", "withdraw: refused forbidden"},
	// the same payment again: the same receipt; altered: not signed by the payer
	"online-replay": {"online: paid", "replay-online: as is, same receipt", "replay-online: altered refused unauthorized"},
	// more than the account holds, and again once it is empty: refused
	"online-race":            {"online: paid", "online: refused limit", "online: sent again", "online: paid from the purse too", "pay: delivered"},
	"online-revoked":         {"online: paid", "revoke", "online: refused forbidden"},
	"online-foreign-request": {"online: refused unauthorized"},
}

// TestCatalogue runs every attack kind alone until each of its telltale
// outcomes has happened.
func TestCatalogue(t *testing.T) {
	if len(exercised) != len(catalogue) {
		t.Fatalf("exercised lists %d kinds, the catalogue has %d", len(exercised), len(catalogue))
	}
	for _, kind := range KindNames() {
		t.Run(kind, func(t *testing.T) {
			cfg := Short()
			cfg.Kinds, cfg.Attacks = []string{kind}, 1
			seen := map[string]bool{}
			all := func() bool {
				for _, want := range exercised[kind] {
					if !seen[want] {
						return false
					}
				}
				return true
			}
			for seed := uint64(1); seed <= 12 && !all(); seed++ {
				r, err := Run(context.Background(), seed, cfg)
				if err != nil {
					t.Fatal(err)
				}
				for k := range r.Stats {
					if rest, ok := strings.CutPrefix(k, "attack "+kind+": "); ok {
						seen[rest] = true
					}
				}
			}
			for _, want := range exercised[kind] {
				if !seen[want] {
					t.Errorf("in 12 seeds, no %q of its own; saw %v", want, seen)
				}
			}
		})
	}
}

// holeCases are the holes the simulator found and the scenario that finds
// each. found is true while the hole is open on the ledger (and listed in
// KnownHoles); once the ledger fixes one it is false, and the scenario
// must never fail that invariant again. All six are fixed.
var holeCases = []struct {
	hole      int
	kind      string // attack kind, or "" for the lost-payee traffic
	invariant string
	found     bool
}{
	{1, "keyx-huge-counter", "loss-above-bound", false},
	{2, "clone-distinct", "deficit-unassessed", false},
	{2, "keyx-overspend-silent", "loss-unrecorded", false},
	{2, "keyx-spree", "deficit-unassessed", false},
	{3, "payee-rollback", "receipt-ignored", false},
	{3, "collude", "loss-above-bound", false},
	{4, "", "pending-forever", false},
	{5, "keyx-overspend", "overspend-unrevoked", false},
	{6, "clone-same-payee", "honest-refused", false},
}

// Each case runs 16 seeds, 4 under the race detector: 144 runs took 297 s
// of the package's 467 s under -race on the 2-core machine (about 2 s a
// run), and seeds 5 to 16 add no code path the race detector has not seen
// in the first four. A hole put back shows within them: with the ledger's
// expiry of payments to a payee that can no longer claim taken out, hole 4
// fails at seed 3; with its revocation of an overspend the device's own
// log proves taken out, hole 5 fails at seed 1. CI's 1,000 short seeds
// (offpay sim --seeds 1001..2000 --short, without the race detector) check
// the same invariants on every attack kind: they failed 11 seeds with the
// first change and 146 with the second.
func TestKnownHoles(t *testing.T) {
	seeds := uint64(16)
	if raceEnabled {
		seeds = 4
	}
	for _, c := range holeCases {
		name := c.kind
		if name == "" {
			name = "lost-payee"
		}
		t.Run(name, func(t *testing.T) {
			cfg := Short()
			if c.kind == "" {
				cfg.Attacks, cfg.LoseShare = 0, 0.5
			} else {
				cfg.Kinds, cfg.Attacks, cfg.LoseShare = []string{c.kind}, 1, 0
			}
			kind := c.kind
			if kind == "" {
				kind = "traffic:lost-payee"
			}
			if h, want := knownHole(kind), map[bool]int{true: c.hole}[c.found]; h != want {
				t.Errorf("KnownHoles says hole %d for %s, this table %d", h, kind, want)
			}
			found := uint64(0)
			for seed := uint64(1); seed <= seeds && found == 0; seed++ {
				r, err := Run(context.Background(), seed, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if r.Has(c.invariant) {
					found = seed
				}
			}
			switch {
			case c.found && found == 0:
				t.Errorf("hole %d: no %s in %d seeds: fixed? flip this case and delete the hole from KnownHoles", c.hole, c.invariant, seeds)
			case !c.found && found != 0:
				t.Errorf("hole %d is back: seed %d fails %s", c.hole, found, c.invariant)
			case found != 0:
				t.Logf("hole %d: seed %d fails %s", c.hole, found, c.invariant)
			}
		})
	}
}
