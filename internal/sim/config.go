package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/offpay/offpay/ledger"
)

// Config shapes the programs generated from seeds. Everything that changes
// what a seed generates is here, so that a seed and a Config replay a run
// exactly (Flags prints the command-line form).
type Config struct {
	Devices   int      // honest devices (people and merchants)
	Steps     int      // generated steps, attack steps included; the drain comes after
	Days      int      // if set, generate this many days of traffic instead (Steps is ignored)
	Attacks   int      // attack instances drawn from the catalogue
	Kinds     []string // catalogue kinds to draw from (empty: all of them)
	SkipKnown bool     // leave out attacks and traffic that find the holes in KnownHoles
	LoseShare float64  // share of people's devices lost for good during the run
	// Regress is the chance, at each generated step after the setup, that
	// the ledger loses its last commits there (regress.go): its database
	// goes back to a copy taken 1 to maxRegress steps earlier.
	Regress    float64
	CheckEvery int  // run the ledger-wide invariants every this many steps (and at the end)
	KeepGoing  bool // run every step and the drain even after a violation (loss curves)
	Policy     ledger.Policy
	// MaxHops, when the ledger's limits have a MaxHops field, is written
	// into it (0: the policy's own). See hops.go.
	MaxHops uint64
	// Postgres, when set, runs the ledger on this PostgreSQL URL (a fresh
	// schema per run) instead of a fresh SQLite file.
	Postgres string
	// Dir is where runs keep their files (default: /dev/shm when it exists,
	// else the system's temp folder).
	Dir string
}

// Short is the configuration of CI runs: a few devices, a few dozen
// steps, one or two attacks.
func Short() Config {
	return Config{Devices: 6, Steps: 70, Attacks: 2, LoseShare: 0.15, Regress: 0.02, CheckEvery: 10, Policy: ledger.DefaultPolicy}
}

// Default is the configuration of a single run.
func Default() Config {
	return Config{Devices: 24, Steps: 400, Attacks: 4, LoseShare: 0.1, Regress: 0.005, CheckEvery: 20, Policy: ledger.DefaultPolicy}
}

// kinds returns the catalogue kinds this configuration draws from.
func (c Config) kinds() []attack {
	var out []attack
	for _, a := range catalogue {
		if len(c.Kinds) > 0 && !slices.Contains(c.Kinds, a.kind()) {
			continue
		}
		if c.SkipKnown && knownHole(a.kind()) != 0 {
			continue
		}
		out = append(out, a)
	}
	return out
}

// check reports a configuration that cannot run.
func (c Config) check() error {
	switch {
	case c.Devices < 2:
		return fmt.Errorf("sim: at least 2 devices")
	case c.Steps < 1 && c.Days < 1:
		return fmt.Errorf("sim: at least 1 step")
	case c.Attacks < 0 || c.CheckEvery < 0 || c.LoseShare < 0 || c.LoseShare > 1 || c.Regress < 0 || c.Regress > 1:
		return fmt.Errorf("sim: attacks, check interval, lose share and regress share must not be negative (the shares at most 1)")
	}
	for _, k := range c.Kinds {
		if kindByName(k) == nil {
			return fmt.Errorf("sim: unknown attack kind %q (known: %s)", k, strings.Join(KindNames(), ", "))
		}
	}
	if c.Attacks > 0 && len(c.kinds()) == 0 {
		return fmt.Errorf("sim: no attack kind left to draw from")
	}
	return nil
}

// Flags is the command-line form of the parts of c that differ from base,
// for the replay command of a violation.
func (c Config) Flags(base Config) string {
	var b strings.Builder
	add := func(f string, args ...any) { fmt.Fprintf(&b, " "+f, args...) }
	if c.Devices != base.Devices {
		add("--devices %d", c.Devices)
	}
	if c.Steps != base.Steps {
		add("--length %d", c.Steps)
	}
	if c.Days != base.Days {
		add("--days %d", c.Days)
	}
	if c.Attacks != base.Attacks {
		add("--attacks %d", c.Attacks)
	}
	if !slices.Equal(c.Kinds, base.Kinds) {
		add("--kinds %s", strings.Join(c.Kinds, ","))
	}
	if c.SkipKnown != base.SkipKnown {
		add("--skip-known")
	}
	if c.LoseShare != base.LoseShare {
		add("--lose %g", c.LoseShare)
	}
	if c.Regress != base.Regress {
		add("--regress %g", c.Regress)
	}
	if c.CheckEvery != base.CheckEvery {
		add("--check-every %d", c.CheckEvery)
	}
	p, q := c.Policy.Person, base.Policy.Person
	if p.PerPayment != q.PerPayment {
		add("--per-payment %d", p.PerPayment)
	}
	if p.MaxOfflineDays != q.MaxOfflineDays {
		add("--offline-days %d", p.MaxOfflineDays)
	}
	if c.MaxHops != base.MaxHops {
		add("--max-hops %d", c.MaxHops)
	}
	return b.String()
}
