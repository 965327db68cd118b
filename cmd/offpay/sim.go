package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/internal/sim"
)

// simFailed is a simulation in which an invariant failed.
type simFailed struct{ what string }

func (f *simFailed) Error() string { return f.what }

// runSim runs the adversarial simulator (internal/sim): one seed, a range
// of seeds (CI), a replay of chosen steps, or the loss curves.
func runSim(e *env, args []string) error {
	fs := newFlags(e, "sim", "[--seed N | --seeds A..B] [--short] [--steps LIST] [--out DIR] [flags]")
	seed := fs.Uint64("seed", 0, "the seed to run (default: a random one, printed)")
	seeds := fs.String("seeds", "", "run every seed of the range A..B (CI), in parallel")
	short := fs.Bool("short", false, "short runs: few devices and steps (what CI runs)")
	devices := fs.Int("devices", 0, "honest devices (default 24; 6 with --short)")
	length := fs.Int("length", 0, "generated steps before the drain (default 400; 70 with --short)")
	attacks := fs.Int("attacks", 0, "attacks drawn from the catalogue (default 4; 2 with --short)")
	kinds := fs.String("kinds", "", "attack kinds to draw from, comma-separated (default: all: "+strings.Join(sim.KindNames(), ", ")+")")
	skipKnown := fs.Bool("skip-known", false, "leave out the attacks and traffic that find the known ledger holes")
	lose := fs.Float64("lose", 0, "share of people's devices lost for good (default 0.1; 0.15 with --short)")
	regress := fs.Float64("regress", 0, "chance at each step that the ledger loses its commits since a copy taken up to 30 steps and less than the claim window earlier (default 0.005; 0.02 with --short; 0: never)")
	checkEvery := fs.Int("check-every", 0, "check the ledger-wide invariants every K steps (default 20; 10 with --short)")
	perPayment := fs.String("per-payment", "", "people's per-payment limit, e.g. 100.00 (default: the ledger's default policy)")
	offlineDays := fs.Uint64("offline-days", 0, "people's days offline before the purse stops paying (default: the policy's)")
	maxHops := fs.Uint64("max-hops", 0, "hop limit, when the ledger's policy has one")
	steps := fs.String("steps", "", "run only these steps of the seed's program, e.g. 0-4,9 (what a shrunk violation prints)")
	shrink := fs.Int("shrink", 400, "shrink a violation in at most this many runs (0: do not shrink)")
	printSteps := fs.Bool("print", false, "print the program's steps before running it")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pg := fs.String("postgres", "", "run the ledger on this PostgreSQL URL (a fresh schema per run) instead of SQLite")
	out := fs.String("out", "", "write loss curves (PNG, SVG, CSV) into this folder instead of running seeds")
	days := fs.Int("days", 0, "days of traffic a run (instead of --length; default 5 for --out)")
	workers := fs.Int("workers", 0, "parallel runs for --seeds and --out (default: GOMAXPROCS)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	base := sim.Default()
	if *short {
		base = sim.Short()
	}
	cfg := base
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["devices"] {
		cfg.Devices = *devices
	}
	if set["length"] {
		cfg.Steps = *length
	}
	if set["days"] {
		cfg.Days = *days
	}
	if set["attacks"] {
		cfg.Attacks = *attacks
	}
	if *kinds != "" {
		cfg.Kinds = strings.Split(*kinds, ",")
	}
	cfg.SkipKnown = *skipKnown
	if set["lose"] {
		cfg.LoseShare = *lose
	}
	if set["regress"] {
		cfg.Regress = *regress
	}
	if set["check-every"] {
		cfg.CheckEvery = *checkEvery
	}
	if *perPayment != "" {
		a, err := offpay.ParseAmountIn(*perPayment, "EUR")
		if err != nil {
			return usageErrorf("--per-payment: %v", err)
		}
		cfg.Policy.Person.PerPayment = uint64(a.Minor)
	}
	if *offlineDays > 0 {
		cfg.Policy.Person.MaxOfflineDays = *offlineDays
	}
	cfg.MaxHops, cfg.Postgres = *maxHops, *pg
	ctx := context.Background()
	if *out != "" {
		if !set["devices"] {
			cfg.Devices = 1000
		}
		if !set["seed"] {
			*seed = 1
		}
		if *days == 0 {
			*days = 5
		}
		return simCurves(ctx, e, cfg, *out, *workers, *days, *seed)
	}
	command := func(s uint64) string {
		c := fmt.Sprintf("offpay sim --seed %d", s)
		if *short {
			c += " --short"
		}
		return c + cfg.Flags(base)
	}
	if *seeds != "" {
		from, to, err := parseSeedRange(*seeds)
		if err != nil {
			return err
		}
		return simSeeds(ctx, e, cfg, from, to, *workers, *shrink, command)
	}
	if !set["seed"] {
		*seed = rand.Uint64N(1 << 32)
	}
	p, err := sim.Generate(*seed, cfg)
	if err != nil {
		return usageErrorf("%v", err)
	}
	var keep []int
	if *steps != "" {
		if keep, err = sim.ParseSteps(*steps); err != nil {
			return usageErrorf("--steps: %v", err)
		}
		if keep[len(keep)-1] >= len(p.Steps) {
			return usageErrorf("--steps: seed %d has steps 0 to %d", *seed, len(p.Steps)-1)
		}
	}
	if *printSteps {
		for i := range p.Steps {
			fmt.Fprintln(e.stdout, p.Describe(i))
		}
	}
	r, err := sim.RunProgram(ctx, p, keep)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		r.WriteText(e.stdout)
	}
	if !r.Failed() {
		return nil
	}
	if *shrink > 0 {
		fmt.Fprintf(e.stderr, "shrinking seed %d (at most %d runs)...\n", *seed, *shrink)
		sh, err := sim.Shrink(ctx, r, *shrink)
		if err != nil {
			return err
		}
		sh.WriteText(e.stdout, command(*seed))
	} else {
		c := command(*seed)
		if keep != nil {
			c += " --steps " + sim.FormatSteps(keep)
		}
		fmt.Fprintf(e.stdout, "replay: %s\n", c)
	}
	return &simFailed{fmt.Sprintf("seed %d: %s", *seed, r.Violations[0])}
}

func parseSeedRange(s string) (from, to uint64, err error) {
	a, b, ok := strings.Cut(s, "..")
	if ok {
		from, err = strconv.ParseUint(a, 10, 64)
		if err == nil {
			to, err = strconv.ParseUint(b, 10, 64)
		}
	}
	if !ok || err != nil || to < from || to-from >= 1<<24 {
		return 0, 0, usageErrorf("--seeds %q: want A..B with A <= B", s)
	}
	return from, to, nil
}

// simSeeds runs a range of seeds, prints each failure in a line and the
// shrunk reproduction of the first.
func simSeeds(ctx context.Context, e *env, cfg sim.Config, from, to uint64, workers, shrink int, command func(uint64) string) error {
	bar := newProgress(e, "seeds")
	b, err := sim.RunSeeds(ctx, from, to, cfg, workers, bar.set)
	bar.finish()
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, r := range b.Failed {
		v := r.Violations[0]
		counts[v.Invariant]++
		fmt.Fprintf(e.stdout, "seed %d: %s\n", r.Seed, v)
	}
	fmt.Fprintf(e.stdout, "%d seeds (%d..%d) in %.1f s: %.1f seeds/s; %d failed\n", b.Runs, from, to, b.Elapsed.Seconds(), b.SeedsPerSecond(), len(b.Failed))
	if len(b.Failed) == 0 {
		return nil
	}
	for _, k := range sortedKeys(counts) {
		fmt.Fprintf(e.stdout, "  %-24s %d seeds\n", k, counts[k])
	}
	first := b.Failed[0]
	if shrink > 0 {
		fmt.Fprintf(e.stderr, "shrinking seed %d (at most %d runs)...\n", first.Seed, shrink)
		sh, err := sim.Shrink(ctx, first, shrink)
		if err != nil {
			return err
		}
		sh.WriteText(e.stdout, command(first.Seed))
	}
	return &simFailed{fmt.Sprintf("%d of %d seeds failed; first: seed %d: %s", len(b.Failed), b.Runs, first.Seed, first.Violations[0])}
}

func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// progress is a progress bar on a terminal, and a plain line every few
// seconds otherwise (CI logs).
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	label string
	last  time.Time
}

func newProgress(e *env, label string) *progress {
	p := &progress{w: e.stderr, label: label, last: time.Now()}
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetWidth(30),
			progressbar.OptionSetDescription(label), progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) set(done, total int) {
	if p.bar != nil {
		p.bar.ChangeMax(total)
		p.bar.Set(done)
		return
	}
	if time.Since(p.last) >= 5*time.Second || done == total {
		p.last = time.Now()
		fmt.Fprintf(p.w, "%s: %d/%d\n", p.label, done, total)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// simCurves runs the loss-curve sweeps (internal/sim/curves.go) and
// writes curves.csv and a PNG and an SVG per swept dimension into dir.
func simCurves(ctx context.Context, e *env, cfg sim.Config, dir string, workers, days int, seed uint64) error {
	bar := newProgress(e, "loss-curve steps")
	start := time.Now()
	points, skipped, err := sim.Curves(ctx, cfg, sim.CurveOptions{Devices: cfg.Devices, Days: days, Seed: seed, Workers: workers, Progress: bar.set})
	bar.finish()
	if err != nil {
		return err
	}
	files, err := sim.WriteCurves(dir, points)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%-15s %8s %8s %12s %12s %12s %5s %8s\n", "dimension", "value", "attacks", "true loss", "recorded", "bound", "viol", "seconds")
	for _, p := range points {
		fmt.Fprintf(e.stdout, "%-15s %8g %8d %12s %12s %12s %5d %8.1f\n", p.Dimension, p.Value, p.Attacks,
			offpay.FormatMinor(p.TrueLoss, 2), offpay.FormatMinor(p.Recorded, 2), offpay.FormatMinor(p.Bound, 2), p.Violations, p.Seconds)
	}
	for _, s := range skipped {
		fmt.Fprintf(e.stdout, "skipped %s: the ledger's policy has no such limit\n", s)
	}
	fmt.Fprintf(e.stdout, "%d devices, %d days a run: %.0f s in all; wrote %s\n", cfg.Devices, days, time.Since(start).Seconds(), strings.Join(files, ", "))
	return nil
}
