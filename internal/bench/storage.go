package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/sqlstore"
)

// StorageConfig chooses what Storage measures.
type StorageConfig struct {
	Dir      string // where the SQLite database goes
	Postgres string // a PostgreSQL URL; "" leaves PostgreSQL out
	NoSQLite bool   // leave SQLite out (to run the stores apart)
	// Sizes are the payments held when the store is measured, in
	// increasing order (default 10^3 to 10^6).
	Sizes []int
	// Probe is how many payments are settled, timed, on top of each size
	// (default 20,000): the per-payment cost with that many already stored.
	Probe int
	// Archive, if set, archives the settled history after the largest
	// size (ledger.Service.Archive) and measures again.
	Archive bool
	// Progress receives what is running and the fraction of it done.
	Progress func(desc string, done float64)
}

func (c *StorageConfig) defaults() {
	if len(c.Sizes) == 0 {
		c.Sizes = []int{1_000, 10_000, 100_000, 1_000_000}
	}
	if c.Probe == 0 {
		c.Probe = 20_000
	}
	if c.Progress == nil {
		c.Progress = func(string, float64) {}
	}
}

// sizer is a store that measures its bytes (sqlite.Store, postgres.Store).
type sizer interface {
	Sizes(ctx context.Context) (*sqlstore.Sizes, error)
}

// Storage fills a ledger through the real settlement path (Settle's
// uploads: devices enrolled, logs signed, then Service.Sync) up to each
// of cfg.Sizes payments and measures there the bytes on disk per payment,
// which tables take them, and the cost per payment of settling cfg.Probe
// more (wall and CPU time). With cfg.Archive it then archives the settled
// history (the ledger's clock moved past the retention) and measures the
// hot tables and the probe again.
func Storage(ctx context.Context, cfg StorageConfig) ([]Row, []string, error) {
	cfg.defaults()
	var rows []Row
	var notes []string
	var stores []string
	if !cfg.NoSQLite {
		stores = append(stores, "sqlite")
	}
	if cfg.Postgres != "" {
		stores = append(stores, "postgres")
	} else {
		notes = append(notes, "PostgreSQL storage rows skipped: no --postgres URL and OFFPAY_TEST_POSTGRES is not set.")
	}
	for _, name := range stores {
		open := func() (Store, func(), error) { return OpenSQLite(ctx, cfg.Dir) }
		if name == "postgres" {
			open = func() (Store, func(), error) { return OpenPostgres(ctx, cfg.Postgres) }
		}
		rs, err := storageOn(ctx, name, open, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("storage on %s: %w", name, err)
		}
		rows = append(rows, rs...)
	}
	notes = append(notes, fmt.Sprintf("Storage rows: each size is reached by settling payments of Settle's shape (%d payments per payer device, "+
		"each a pay and a confirm entry carrying the payee's receipt; payees are %d people and a shop) through ledger.Service.Sync; up to %d more payments "+
		"(no more than reach the next size) are then settled, timed, after the dirty pages are written back, to give the per-payment cost with that many "+
		"already stored. Bytes: SQLite's file after a WAL checkpoint and its dbstat by table; PostgreSQL's pg_total_relation_size by table "+
		"(after archiving, also after VACUUM FULL, since PostgreSQL keeps its files at their largest).", PerPayer, Shops-1, cfg.Probe))
	return rows, notes, nil
}

func storageOn(ctx context.Context, name string, open func() (Store, func(), error), cfg StorageConfig) ([]Row, error) {
	st, closeFn, err := open()
	if err != nil {
		return nil, err
	}
	defer closeFn()
	sz, ok := st.(sizer)
	if !ok {
		return nil, fmt.Errorf("store %T does not measure its size", st)
	}
	keys, err := ledger.Init(filepath.Join(os.TempDir(), fmt.Sprintf("offpay-bench-keys-%d", time.Now().UnixNano())), "EUR", nil)
	if err != nil {
		return nil, err
	}
	var shift atomic.Int64 // the ledger's clock ahead of the machine's (for archiving)
	clock := func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	svc := ledger.New(st, keys, ledger.Options{Clock: clock})
	f := &filler{svc: svc}
	var rows []Row
	var firstWall, firstCPU float64
	var lastWall, lastCPU float64
	for i, n := range cfg.Sizes {
		if n > f.held {
			cfg.Progress(fmt.Sprintf("%s: filling to %d payments", name, n), float64(i)/float64(len(cfg.Sizes)+1))
			if _, err := f.settle(ctx, n-f.held); err != nil {
				return nil, err
			}
		}
		s, err := sz.Sizes(ctx)
		if err != nil {
			return nil, err
		}
		rows = append(rows, Row{Metric: "storage_bytes_per_payment", Store: name, N: f.held, Value: float64(s.Disk) / float64(f.held), Unit: "bytes", Ratio: math.NaN()})
		if s.WAL > 0 {
			rows = append(rows, Row{Metric: "storage_wal_bytes", Store: name, N: f.held, Value: float64(s.WAL), Unit: "bytes (the WAL file, apart)", Ratio: math.NaN()})
		}
		if i == len(cfg.Sizes)-1 {
			rows = append(rows, tableRows(name, f.held, s)...)
		}
		cfg.Progress(fmt.Sprintf("%s: more payments on top of %d", name, f.held), (float64(i)+0.5)/float64(len(cfg.Sizes)+1))
		if err := settleDown(ctx, sz); err != nil {
			return nil, err
		}
		held := f.held
		probe := cfg.Probe
		if i+1 < len(cfg.Sizes) && cfg.Sizes[i+1] > held {
			probe = min(probe, cfg.Sizes[i+1]-held) // so that the next size is measured at its count
		}
		res, err := f.settle(ctx, probe)
		if err != nil {
			return nil, err
		}
		wall, cpu := perPayment(res)
		rows = append(rows, probeRows(name, "", held, wall, cpu, res)...)
		if firstWall == 0 {
			firstWall, firstCPU = wall, cpu
		}
		lastWall, lastCPU = wall, cpu
	}
	growth := fmt.Sprintf("_%d_to_%d", cfg.Sizes[0], cfg.Sizes[len(cfg.Sizes)-1])
	rows = append(rows,
		Row{Metric: "storage_settle_cost_growth" + growth, Store: name, Value: lastWall / firstWall, Unit: "x (wall time per payment)", Ratio: math.NaN()},
		Row{Metric: "storage_settle_cpu_cost_growth" + growth, Store: name, Value: lastCPU / firstCPU, Unit: "x (CPU time per payment, this process)", Ratio: math.NaN()})
	if !cfg.Archive {
		return rows, nil
	}
	return archiveRows(ctx, name, cfg, f, sz, &shift, rows, lastWall, lastCPU)
}

// filler settles payments into a ledger that already holds some, and
// checks after each round that the report counts all of them settled
// and money conserved.
type filler struct {
	svc   *ledger.Service
	held  int
	payer int
}

func (f *filler) settle(ctx context.Context, n int) (SettleResult, error) {
	res, err := settleMore(ctx, f.svc, n, &f.payer, f.held)
	if err == nil {
		f.held += n
	}
	return res, err
}

// settleMore is SettlePer (PerPayer payments an upload) for a ledger
// already holding held settled payments; payer numbers devices on from
// earlier rounds.
func settleMore(ctx context.Context, svc *ledger.Service, n int, payer *int, held int) (SettleResult, error) {
	a := ServiceAdmin{svc}
	cur := svc.Currency()
	res := SettleResult{Payments: n}
	// The payees: one shop and people. A shop's sales stay refundable
	// (and so hot) while its log shows no sync past the refund window,
	// which these shops never upload; the people's payments are settled
	// history once claimed.
	var shops []*Device
	for i := range Shops {
		d, _, err := NewEnrolled(ctx, a, cur, fmt.Sprintf("payee%d-%d", *payer, i), i == 0, 0, 0)
		if err != nil {
			return res, err
		}
		shops = append(shops, d)
	}
	counters := make([]atomic.Uint64, len(shops))
	for done := 0; done < n; {
		batch := min(BatchPayments, n-done)
		ups, err := payerUploads(ctx, a, cur, shops, counters, payer, batch, min(n, PerPayer))
		if err != nil {
			return res, err
		}
		cpu0 := cpuTime()
		elapsed, err := syncAll(ctx, svc, ups)
		if err != nil {
			return res, err
		}
		res.CPU += cpuTime() - cpu0
		res.Elapsed += elapsed
		res.Uploads += len(ups)
		done += batch
	}
	r, err := svc.Report(ctx)
	if err != nil {
		return res, err
	}
	if !r.ConservationOK || r.Settled != int64(held+n) || len(r.DoubleSpends) > 0 {
		return res, fmt.Errorf("after settling %d payments on %d: %d settled, conservation %v, %d double spends", n, held, r.Settled, r.ConservationOK, len(r.DoubleSpends))
	}
	return res, nil
}

// perPayment is a run's wall and CPU time per payment in µs.
func perPayment(r SettleResult) (wall, cpu float64) {
	return float64(r.Elapsed.Nanoseconds()) / 1000 / float64(r.Payments), float64(r.CPU.Nanoseconds()) / 1000 / float64(r.Payments)
}

func probeRows(store, suffix string, held int, wall, cpu float64, res SettleResult) []Row {
	rows := []Row{{Metric: "storage_settle_wall_per_payment" + suffix, Store: store, N: held, Value: wall, Unit: "µs", Ratio: math.NaN()},
		{Metric: "storage_settle_cpu_per_payment" + suffix, Store: store, N: held, Value: cpu, Unit: "µs CPU (this process)", Ratio: math.NaN()}}
	return append(rows, Row{Metric: "storage_settle_core_utilisation" + suffix, Store: store, N: held, Value: 100 * res.Utilisation(), Unit: "% of all cores", Ratio: math.NaN()})
}

// tableRows breaks a store's bytes down by table (indexes included, and
// their share), largest first.
func tableRows(store string, held int, s *sqlstore.Sizes) []Row {
	names := make([]string, 0, len(s.Tables))
	for t := range s.Tables {
		names = append(names, t)
	}
	sort.Slice(names, func(i, j int) bool { return s.Tables[names[i]] > s.Tables[names[j]] })
	var rows []Row
	for _, t := range names {
		if s.Tables[t] < int64(held) { // under a byte a payment: not worth a row
			continue
		}
		rows = append(rows, Row{Metric: "storage_table_" + t, Store: store, N: held, Value: float64(s.Tables[t]) / float64(held), Unit: "bytes per payment", Ratio: math.NaN()})
		if ix := s.Indexes[t]; ix >= int64(held) {
			rows = append(rows, Row{Metric: "storage_table_" + t + "_indexes", Store: store, N: held, Value: float64(ix) / float64(held), Unit: "bytes per payment", Ratio: math.NaN()})
		}
	}
	return rows
}

// settleDown writes back what the operating system (and PostgreSQL) hold
// dirty before a probe, so that the probe does not pay for writing back
// the fill before it: without it, the probe after filling to 10^6
// waited on the fill's gigabyte (SQLite's commits fsync).
func settleDown(ctx context.Context, sz sizer) error {
	syscall.Sync()
	if c, ok := sz.(interface{ Checkpoint(context.Context) error }); ok {
		// Best effort: CHECKPOINT needs a superuser or pg_checkpoint.
		_ = c.Checkpoint(ctx)
	}
	return nil
}
