package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/internal/loadtest"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

const postgresTestEnv = "OFFPAY_TEST_POSTGRES"

// runBench measures settlement, sync, latency, load and message sizes
// (internal/bench) and writes bench.md and bench.csv.
func runBench(e *env, args []string) error {
	fs := newFlags(e, "bench", "[--quick] [--recovery | --no-recovery] [--storage [--archive] [--max N] [--no-sqlite]] [--out DIR] [--postgres URL]")
	quick := fs.Bool("quick", false, "small sizes only (under a minute)")
	out := fs.String("out", ".", "folder for bench.md and bench.csv")
	pg := fs.String("postgres", "", "PostgreSQL URL for the PostgreSQL rows (default: $"+postgresTestEnv+")")
	noLoad := fs.Bool("no-loadtest", false, "skip the HTTP load test")
	recovery := fs.Bool("recovery", false, "only the recovery rows: RPO of a replicated SQLite ledger under a steady sync load, RTO of 10^6 settled payments on SQLite and PostgreSQL (10^4 with --quick)")
	noRecovery := fs.Bool("no-recovery", false, "leave the recovery rows out of a full run (they take most of its time)")
	storage := fs.Bool("storage", false, "only the storage rows: bytes on disk per settled payment and settlement cost per payment at 10^3..10^6 payments stored (10^3, 10^4 with --quick)")
	noSQLite := fs.Bool("no-sqlite", false, "with --storage: PostgreSQL only")
	storageMax := fs.Int("max", 0, "with --storage: the largest size, a power of ten from 10^3 (default 10^6; 10^4 with --quick)")
	archive := fs.Bool("archive", false, "with --storage: archive the settled history after the largest size and measure again")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	// Flags that belong to another mode would otherwise be ignored and
	// start a run of many minutes the caller did not ask for.
	if *recovery && *noRecovery {
		return usageErrorf("bench: --recovery runs only the recovery rows, --no-recovery leaves them out: give one")
	}
	if *storage && (*recovery || *noRecovery) {
		return usageErrorf("bench: --storage runs only the storage rows: --recovery and --no-recovery do not apply")
	}
	if !*storage && (*archive || *noSQLite || *storageMax != 0) {
		return usageErrorf("bench: --archive, --max and --no-sqlite go with --storage")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *pg == "" {
		*pg = e.getenv(postgresTestEnv)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	progress, finish := benchProgress(e.stderr)
	cfg := bench.Config{Quick: *quick, Postgres: *pg, Recovery: *recovery, NoRecovery: *noRecovery, Progress: progress}
	if !*noLoad {
		cfg.LoadTest = loadtest.BenchFunc
		cfg.Herd = loadtest.HerdFunc
	}
	var r *bench.Result
	var err error
	if *storage {
		r, err = storageBench(*quick, *archive, *noSQLite, *storageMax, *pg, progress)
	} else {
		r, err = bench.Run(context.Background(), cfg)
	}
	finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Machine: %s\n", r.Machine)
	for _, n := range r.Notes {
		fmt.Fprintf(e.stdout, "Note: %s\n", n)
	}
	fmt.Fprintln(e.stdout)
	if err := bench.WriteText(e.stdout, r.Rows); err != nil {
		return err
	}
	md, err := os.Create(filepath.Join(*out, "bench.md"))
	if err != nil {
		return err
	}
	defer md.Close()
	if err := bench.WriteMarkdown(md, r.Rows, r.Machine, r.Notes); err != nil {
		return err
	}
	csv, err := os.Create(filepath.Join(*out, "bench.csv"))
	if err != nil {
		return err
	}
	defer csv.Close()
	if err := bench.WriteCSV(csv, r.Rows); err != nil {
		return err
	}
	if err := md.Close(); err != nil {
		return err
	}
	if err := csv.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nWrote %s and %s.\n", md.Name(), csv.Name())
	return nil
}

// benchProgress shows the run's progress on w: a bar when w is a
// terminal, else (a pipe, a file, CI's log) one plain line per step.
func benchProgress(w io.Writer) (progress func(desc string, done float64), finish func()) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(1000, progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
			progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(false), progressbar.OptionClearOnFinish())
		return func(desc string, done float64) {
				bar.Describe(fmt.Sprintf("%-34s", desc))
				bar.Set(int(done * 1000))
			}, func() {
				bar.Finish()
				fmt.Fprintln(w)
			}
	}
	start, last := time.Now(), ""
	return func(desc string, done float64) {
		if desc != last && desc != "done" {
			last = desc
			fmt.Fprintf(w, "bench: %3.0f%% %s (%s)\n", 100*done, desc, time.Since(start).Round(time.Second))
		}
	}, func() {}
}
