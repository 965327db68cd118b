package bench

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
)

// Config chooses what Run measures.
type Config struct {
	Quick    bool   // the small sizes: under a minute on a quiet 2-core machine
	Postgres string // a PostgreSQL URL for the PostgreSQL rows; "" skips them
	Dir      string // where the SQLite databases and wallets go (default: a temporary folder)
	// Progress, if set, receives what is running and the fraction of the
	// whole run done so far.
	Progress func(desc string, done float64)
	// LoadTest, if set, runs the HTTP load test with this many devices and
	// returns its rows (the loadtest package provides it; passing it in
	// keeps this package free of a cycle with it).
	LoadTest func(ctx context.Context, dir string, devices int) ([]Row, error)
	// Herd, if set, brings this many devices back at once after an
	// outage, each with a few payments, over HTTP on SQLite (and on
	// PostgreSQL when pg is a URL), and returns its rows.
	Herd func(ctx context.Context, dir, pg string, devices int) ([]Row, error)
	// Recovery runs only the recovery rows (RPO with replication, RTO);
	// without it a full run includes them and a quick run skips them.
	Recovery bool
	// NoRecovery leaves the recovery rows out of a full run.
	NoRecovery bool
}

// recovery is the recovery section's configuration.
func (c Config) recovery(dir string) RecoveryConfig {
	rc := RecoveryConfig{Dir: filepath.Join(dir, "recovery"), Postgres: c.Postgres, N: 1_000_000, Runs: 5, LoadFor: 4 * time.Second}
	if c.Quick {
		rc.N, rc.Runs, rc.LoadFor = 10_000, 2, 2*time.Second
	}
	return rc
}

// herdSizes are the crowds the herd rows bring back.
func (c Config) herdSizes() []int {
	if c.Quick {
		return []int{1_000}
	}
	return []int{1_000, 10_000}
}

// Sizes of the runs.
func (c Config) sqliteSizes() []int {
	if c.Quick {
		return []int{1_000, 10_000}
	}
	return []int{1_000, 10_000, 100_000, 1_000_000}
}

func (c Config) postgresSize() int {
	if c.Quick {
		return 10_000
	}
	return 100_000
}

// localLimitFor is how long the limit is measured around each settlement.
const localLimitFor = 700 * time.Millisecond

// Result is the table and the notes that go with it.
type Result struct {
	Rows    []Row
	Notes   []string
	Machine string
	Limit   float64 // ed25519 verifications/s, one by one, all cores
}

// Run measures everything and returns the table. The limit is measured
// before and after the rest, and ratios use the mean, since a shared
// machine's load changes during the run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "offpay-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	r := &Result{Machine: Machine()}
	if cfg.Recovery {
		rc := cfg.recovery(dir)
		rc.Progress = cfg.Progress
		rows, notes, err := Recovery(ctx, rc)
		if err != nil {
			return nil, err
		}
		r.Rows, r.Notes = rows, notes
		return r, nil
	}
	p := newPlan(cfg)
	verifyFor := 2 * time.Second
	if cfg.Quick {
		verifyFor = time.Second
	}

	p.step("ed25519 limit")
	before, oneCPU := verifyMeasure(verifyFor)
	batched, batchedCPU := BatchVerifyRate(verifyFor)
	var settle []Row
	for _, n := range cfg.sqliteSizes() {
		p.step(fmt.Sprintf("settle %d on SQLite", n))
		floorDir := ""
		if n == cfg.postgresSize() {
			floorDir = filepath.Join(dir, "store-floor")
		}
		rows, err := settleOn(ctx, "sqlite", n, func() (Store, func(), error) { return OpenSQLite(ctx, dir) }, p, floorDir)
		if err != nil {
			return nil, fmt.Errorf("settling %d payments on SQLite: %w", n, err)
		}
		settle = append(settle, rows...)
	}
	{
		// The same settlement with synchronous=NORMAL, the old setting,
		// whose acknowledged commits a power loss can take: what FULL costs.
		n := cfg.postgresSize()
		p.step(fmt.Sprintf("settle %d on SQLite, synchronous=NORMAL", n))
		rows, err := settleOn(ctx, "sqlite-sync-normal", n, func() (Store, func(), error) {
			return openSQLite(ctx, dir, sqlite.Options{UnsafeSyncNormal: true})
		}, p, "")
		if err != nil {
			return nil, fmt.Errorf("settling %d payments on SQLite (NORMAL): %w", n, err)
		}
		settle = append(settle, rows...)
	}
	if cfg.Postgres != "" {
		n := cfg.postgresSize()
		p.step(fmt.Sprintf("settle %d on PostgreSQL", n))
		rows, err := settleOn(ctx, "postgres", n, func() (Store, func(), error) { return OpenPostgres(ctx, cfg.Postgres) }, p, "")
		if err != nil {
			return nil, fmt.Errorf("settling %d payments on PostgreSQL: %w", n, err)
		}
		settle = append(settle, rows...)
	} else {
		r.Notes = append(r.Notes, "PostgreSQL rows skipped: no --postgres URL and OFFPAY_TEST_POSTGRES is not set.")
	}

	p.step("sync of a 10k-entry log")
	syncRows, err := syncLog(ctx, dir, 10_000)
	if err != nil {
		return nil, fmt.Errorf("10k-entry sync: %w", err)
	}

	p.step("payment latency")
	latRows, sizeRows, err := latencies(ctx, filepath.Join(dir, "wallets"), cfg.Quick, p)
	if err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}

	var loadRows []Row
	if cfg.LoadTest != nil {
		devices := 1000
		if cfg.Quick {
			devices = 200
		}
		p.step(fmt.Sprintf("load test, %d devices over HTTP", devices))
		if loadRows, err = cfg.LoadTest(ctx, dir, devices); err != nil {
			return nil, fmt.Errorf("load test: %w", err)
		}
	}

	var herdRows []Row
	if cfg.Herd != nil {
		for _, n := range cfg.herdSizes() {
			p.step(fmt.Sprintf("herd, %d devices at once", n))
			rows, err := cfg.Herd(ctx, dir, cfg.Postgres, n)
			if err != nil {
				return nil, fmt.Errorf("herd of %d: %w", n, err)
			}
			herdRows = append(herdRows, rows...)
		}
	}

	var recRows []Row
	if !cfg.Quick && !cfg.NoRecovery {
		p.step("recovery: RPO with replication, RTO")
		rc := cfg.recovery(dir)
		rc.Progress = func(desc string, frac float64) { p.within(frac) }
		rows, notes, err := Recovery(ctx, rc)
		if err != nil {
			return nil, fmt.Errorf("recovery: %w", err)
		}
		recRows = rows
		r.Notes = append(r.Notes, notes...)
	} else {
		r.Notes = append(r.Notes, "Recovery rows (RPO, RTO) left out (--quick or --no-recovery): offpay bench --recovery [--quick] runs them alone.")
	}

	p.step("ed25519 limit, again")
	after, oneCPU2 := verifyMeasure(verifyFor)
	batched2, batchedCPU2 := BatchVerifyRate(verifyFor)
	r.Limit = (before + after) / 2
	oneCPU, batched, batchedCPU = (oneCPU+oneCPU2)/2, (batched+batched2)/2, (batchedCPU+batchedCPU2)/2
	r.Notes = append(r.Notes, fmt.Sprintf("ed25519 limit measured at the start (%.0f/s) and at the end (%.0f/s) of the run (the first row is their mean); "+
		"each settlement row's ratio uses the limit measured again just before and just after that row, since other load on the machine comes and goes.", before, after))

	r.Rows = append(r.Rows, Row{Metric: "ed25519_verify_one_by_one", Store: "-", Value: r.Limit, Unit: "verifications/s", Ratio: 1},
		Row{Metric: "ed25519_verify_batched", Store: "-", Value: batched, Unit: "verifications/s (batches of 1,024)", Ratio: batched / r.Limit})
	// Per-payment cost from the smallest to the largest SQLite run, in
	// wall time and in CPU time.
	var first, last, firstCPU, lastCPU float64
	for _, row := range settle {
		switch {
		case row.Store != "sqlite":
		case row.Metric == "settle_throughput":
			last = 1 / row.Value
			if first == 0 {
				first = last
			}
		case row.Metric == "settle_cpu_per_payment":
			lastCPU = row.Value
			if firstCPU == 0 {
				firstCPU = lastCPU
			}
		}
	}
	r.Rows = append(r.Rows, settle...)
	r.Rows = append(r.Rows, beside(settle, oneCPU, batchedCPU)...)
	sizes := cfg.sqliteSizes()
	growth := fmt.Sprintf("_%d_to_%d", sizes[0], sizes[len(sizes)-1])
	r.Rows = append(r.Rows,
		Row{Metric: "settle_cost_growth" + growth, Store: "sqlite", Value: last / first, Unit: "x (wall time per payment)", Ratio: math.NaN()},
		Row{Metric: "settle_cpu_cost_growth" + growth, Store: "sqlite", Value: lastCPU / firstCPU, Unit: "x (CPU time per payment)", Ratio: math.NaN()})
	r.Rows = append(r.Rows, syncRows...)
	r.Rows = append(r.Rows, latRows...)
	r.Rows = append(r.Rows, loadRows...)
	r.Rows = append(r.Rows, herdRows...)
	r.Rows = append(r.Rows, sizeRows...)
	r.Rows = append(r.Rows, recRows...)
	p.done()
	return r, nil
}

// beside is what the largest SQLite settlement spends per payment beside
// its one signature verified in a batch, and what settling at twice the
// one-by-one limit would leave for that on all cores kept busy: half a
// one-by-one verification's CPU time less a batched one's.
func beside(settle []Row, oneCPU, batchedCPU time.Duration) []Row {
	var cpu Row
	for _, row := range settle {
		if row.Store == "sqlite" && row.Metric == "settle_cpu_per_payment" {
			cpu = row
		}
	}
	if cpu.Metric == "" {
		return nil
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	spent := cpu.Value - SignaturesPerPayment*us(batchedCPU)
	budget := us(oneCPU)/2 - SignaturesPerPayment*us(batchedCPU)
	return []Row{
		{Metric: "settle_cpu_beside_crypto", Store: "sqlite", N: cpu.N, Value: spent, Unit: "µs CPU a payment (all but its batched verification)", Ratio: math.NaN()},
		{Metric: "settle_cpu_budget_beside_crypto_at_2x", Store: "-", Value: budget, Unit: "µs CPU a payment that 2.0x the limit leaves for that", Ratio: budget / spent},
	}
}

// settleOn settles n payments on a store that open makes, and, if
// floorDir is set, measures the store's write floor for the same rows
// there (storeFloor).
func settleOn(ctx context.Context, name string, n int, open func() (Store, func(), error), p *plan, floorDir string) ([]Row, error) {
	st, closeFn, err := open()
	if err != nil {
		return nil, err
	}
	defer closeFn()
	// Other work on a shared machine comes and goes: the limit is measured
	// again around each run, and the row's ratio uses that local mean.
	before, cpuBefore := verifyMeasure(localLimitFor)
	keys, err := ledger.Init(filepath.Join(os.TempDir(), fmt.Sprintf("offpay-bench-keys-%d", time.Now().UnixNano())), "EUR", nil)
	if err != nil {
		return nil, err
	}
	svc := ledger.New(st, keys, ledger.Options{})
	res, err := Settle(ctx, svc, n, func(done int) { p.within(float64(done) / float64(n)) })
	if err != nil {
		return nil, err
	}
	after, cpuAfter := verifyMeasure(localLimitFor)
	limit, verifyCPU := (before+after)/2, (cpuBefore+cpuAfter)/2
	perPayment := res.CPUPerPayment()
	rows := []Row{{Metric: "settle_throughput", Store: name, N: n, Value: res.Rate(), Unit: "payments/s", Ratio: res.Rate() / limit},
		// The same against the signatures a payment carries: how close
		// settlement runs to verifying them one by one.
		{Metric: "settle_signature_throughput", Store: name, N: n, Value: res.Rate() * SignaturesPerPayment, Unit: "signatures/s",
			Ratio: res.Rate() * SignaturesPerPayment / limit}}
	if name != "sqlite" {
		return rows, nil // the database server's CPU time is not this process's
	}
	if floorDir != "" {
		fr, err := storeFloor(ctx, st, svc, n, floorDir, limit)
		if err != nil {
			return nil, err
		}
		rows = append(rows, fr...)
	}
	return append(rows,
		// The same run in CPU time: a payment's cost against one
		// verification's, i.e. the ratio on an idle machine if settlement
		// kept every core busy.
		Row{Metric: "settle_cpu_per_payment", Store: name, N: n, Value: float64(perPayment.Nanoseconds()) / 1000, Unit: "µs CPU", Ratio: verifyCPU.Seconds() / perPayment.Seconds()},
		Row{Metric: "settle_core_utilisation", Store: name, N: n, Value: 100 * res.Utilisation(), Unit: "% of all cores", Ratio: math.NaN()},
	), nil
}

// newService makes a ledger on a fresh SQLite database under dir.
func newService(ctx context.Context, dir string) (*ledger.Service, func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	st, closeFn, err := OpenSQLite(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	keys, err := ledger.Init(filepath.Join(dir, fmt.Sprintf("keys-%d", time.Now().UnixNano())), "EUR", nil)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return ledger.New(st, keys, ledger.Options{}), closeFn, nil
}

// syncLog times the upload of one device's log of n entries (a Load and
// n-1 payments), in protocol.MaxSyncEntries chunks, into a fresh ledger:
// once by calling the service, once over its HTTP API on loopback.
func syncLog(ctx context.Context, dir string, n int) ([]Row, error) {
	var rows []Row
	for _, overHTTP := range []bool{false, true} {
		svc, closeFn, err := newService(ctx, dir)
		if err != nil {
			return nil, err
		}
		defer closeFn()
		a := ServiceAdmin{svc}
		shop, _, err := NewEnrolled(ctx, a, "EUR", "shop", true, 0, 0)
		if err != nil {
			return nil, err
		}
		d, entries, err := NewEnrolled(ctx, a, "EUR", "payer", false, int64(n), uint64(n))
		if err != nil {
			return nil, err
		}
		for len(entries) < n {
			e, _ := d.Pay(shop.ID, 1)
			entries = append(entries, e)
		}
		ups := d.Chunks(entries, protocol.MaxSyncEntries)
		var syncer interface {
			Sync(context.Context, *protocol.SyncUpload) (*protocol.SyncResult, error)
		} = svc
		transport := "in-process"
		if overHTTP {
			url, stop, err := serve(svc)
			if err != nil {
				return nil, err
			}
			defer stop()
			c, err := ledgerclient.New(url, ledgerclient.Options{})
			if err != nil {
				return nil, err
			}
			syncer, transport = c, "http"
		}
		start := time.Now()
		for _, u := range ups {
			res, err := syncer.Sync(ctx, u)
			if err != nil {
				return nil, err
			}
			if res.Acked != u.Entries[len(u.Entries)-1].Counter {
				return nil, fmt.Errorf("acknowledged %d of %d entries", res.Acked, n)
			}
		}
		rows = append(rows, Row{Metric: "sync_10k_entry_log_" + transport, Store: "sqlite", N: n,
			Value: float64(time.Since(start).Microseconds()) / 1000, Unit: "ms", Ratio: math.NaN()})
	}
	return rows, nil
}

// serve runs the HTTP API over svc on a loopback port, rate limits off
// (the benchmark is the only client).
func serve(svc *ledger.Service) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	off := server.RateLimit{Disabled: true}
	srv := &http.Server{Handler: server.New(svc, server.Options{AdminToken: "bench", Logger: discardLogger(), RateLimit: off, ClientRateLimit: off}),
		ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// storeFloor is what writing the rows of n settled payments alone costs
// the SQLite store st, in as many commits as svc's group commits made
// (sqlite.Store.WriteFloor): the most payments a second one writer could
// settle with everything else free, against the limit measured around
// the settlement.
func storeFloor(ctx context.Context, st Store, svc *ledger.Service, n int, dir string, limit float64) ([]Row, error) {
	s, ok := st.(*sqlite.Store)
	if !ok {
		return nil, nil
	}
	defer os.RemoveAll(dir)
	f, err := s.WriteFloor(ctx, dir, sqlite.FloorTables, int(svc.Batches().Batches))
	if err != nil {
		return nil, fmt.Errorf("store floor: %w", err)
	}
	rate := float64(n) / f.Wall.Seconds()
	rows := []Row{{Metric: "settle_store_floor", Store: "sqlite", N: n, Value: rate, Unit: "payments/s (their rows' writes alone, one writer)", Ratio: rate / limit}}
	if f.CPU > 0 {
		rows = append(rows, Row{Metric: "settle_store_floor_cpu", Store: "sqlite", N: n, Value: float64(f.CPU.Nanoseconds()) / 1000 / float64(n),
			Unit: fmt.Sprintf("µs CPU a payment on the writer's thread (%d rows, %d commits)", f.Rows, f.Transactions), Ratio: math.NaN()})
		for _, t := range sqlite.FloorTables {
			rows = append(rows, Row{Metric: "settle_store_floor_cpu_" + t, Store: "sqlite", N: n, Value: float64(f.TableCPU[t].Nanoseconds()) / 1000 / float64(n),
				Unit: fmt.Sprintf("µs CPU a payment inserting its %s (%.2f rows a payment)", t, float64(f.TableRows[t])/float64(n)), Ratio: math.NaN()})
		}
	}
	return rows, nil
}
