package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/internal/loadtest"
	"github.com/schollz/progressbar/v3"
)

const postgresTestEnv = "OFFPAY_TEST_POSTGRES"

// runBench measures settlement, sync, latency, load and message sizes
// (internal/bench) and writes bench.md and bench.csv.
func runBench(e *env, args []string) error {
	fs := newFlags(e, "bench", "[--quick] [--out DIR] [--postgres URL]")
	quick := fs.Bool("quick", false, "small sizes only (under a minute)")
	out := fs.String("out", ".", "folder for bench.md and bench.csv")
	pg := fs.String("postgres", "", "PostgreSQL URL for the PostgreSQL rows (default: $"+postgresTestEnv+")")
	noLoad := fs.Bool("no-loadtest", false, "skip the HTTP load test")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	if _, err := parse(fs, args); err != nil {
		return err
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
	bar := progressbar.NewOptions(1000, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetWidth(30),
		progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(false), progressbar.OptionClearOnFinish())
	cfg := bench.Config{Quick: *quick, Postgres: *pg, Progress: func(desc string, done float64) {
		bar.Describe(fmt.Sprintf("%-34s", desc))
		bar.Set(int(done * 1000))
	}}
	if !*noLoad {
		cfg.LoadTest = loadtest.BenchFunc
	}
	r, err := bench.Run(context.Background(), cfg)
	bar.Finish()
	fmt.Fprintln(e.stderr)
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
