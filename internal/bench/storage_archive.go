package bench

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/offpay/offpay/ledger"
)

// archiveRows moves the ledger's clock past the retention, archives the
// settled history (everything the fill settled, the shops' sales
// excepted: they stay refundable while the shops never sync), checks
// that the report still balances and counts every payment, and measures
// the hot tables and the probe again.
func archiveRows(ctx context.Context, name string, cfg StorageConfig, f *filler, sz sizer, shift *atomic.Int64, rows []Row, wall, cpu float64) ([]Row, error) {
	before, err := sz.Sizes(ctx)
	if err != nil {
		return nil, err
	}
	shift.Add(int64(ledger.MinRetention + time.Hour))
	cut := time.Now().Add(time.Duration(shift.Load())).Add(-ledger.MinRetention)
	cfg.Progress(fmt.Sprintf("%s: archiving %d payments", name, f.held), float64(len(cfg.Sizes))/float64(len(cfg.Sizes)+1))
	cpu0 := cpuTime()
	start := time.Now()
	res, err := f.svc.Archive(ctx, cut, 0, nil)
	if err != nil {
		return nil, err
	}
	took, tookCPU := time.Since(start), cpuTime()-cpu0
	// Back to the machine's time: the devices enrolled next sign their
	// requests with it.
	shift.Store(0)
	r, err := f.svc.Report(ctx)
	if err != nil {
		return nil, err
	}
	if !r.ConservationOK || r.Settled != int64(f.held) {
		return nil, fmt.Errorf("after archiving: %d settled (want %d), conservation %v", r.Settled, f.held, r.ConservationOK)
	}
	after, err := sz.Sizes(ctx)
	if err != nil {
		return nil, err
	}
	moved := res.Moved[ledger.ArchivePayments]
	rows = append(rows,
		Row{Metric: "storage_archive_payments_moved", Store: name, N: f.held, Value: float64(moved), Unit: "payments", Ratio: math.NaN()},
		Row{Metric: "storage_archive_time_per_payment", Store: name, N: f.held, Value: float64(took.Nanoseconds()) / 1000 / float64(max(moved, 1)), Unit: "µs", Ratio: math.NaN()},
		Row{Metric: "storage_archive_cpu_per_payment", Store: name, N: f.held, Value: float64(tookCPU.Nanoseconds()) / 1000 / float64(max(moved, 1)), Unit: "µs CPU (this process)", Ratio: math.NaN()},
		Row{Metric: "storage_hot_bytes_per_payment_before_archive", Store: name, N: f.held, Value: float64(before.Hot()) / float64(f.held), Unit: "bytes", Ratio: math.NaN()},
		Row{Metric: "storage_hot_bytes_per_payment_after_archive", Store: name, N: f.held, Value: float64(after.Hot()) / float64(f.held), Unit: "bytes", Ratio: math.NaN()},
		Row{Metric: "storage_bytes_per_payment_after_archive", Store: name, N: f.held, Value: float64(after.Disk) / float64(f.held), Unit: "bytes", Ratio: math.NaN()})
	if c, ok := sz.(interface{ Compact(context.Context) error }); ok {
		// PostgreSQL keeps its files at their largest: the hot tables'
		// own size shows after they are rewritten.
		if err := c.Compact(ctx); err != nil {
			return nil, err
		}
		if after, err = sz.Sizes(ctx); err != nil {
			return nil, err
		}
		rows = append(rows, Row{Metric: "storage_hot_bytes_per_payment_after_archive_vacuum_full", Store: name, N: f.held, Value: float64(after.Hot()) / float64(f.held), Unit: "bytes", Ratio: math.NaN()},
			Row{Metric: "storage_bytes_per_payment_after_archive_vacuum_full", Store: name, N: f.held, Value: float64(after.Disk) / float64(f.held), Unit: "bytes", Ratio: math.NaN()})
	}
	rows = append(rows, tableRows(name+"-archived", f.held, after)...)
	if err := settleDown(ctx, sz); err != nil {
		return nil, err
	}
	held := f.held
	cfg.Progress(fmt.Sprintf("%s: %d more payments on top of %d archived", name, cfg.Probe, held), 1)
	pr, err := f.settle(ctx, cfg.Probe)
	if err != nil {
		return nil, err
	}
	w, c := perPayment(pr)
	rows = append(rows, probeRows(name, "_after_archive", held, w, c, pr)...)
	return append(rows,
		Row{Metric: "storage_settle_cost_after_archive_vs_before", Store: name, N: held, Value: w / wall, Unit: "x (wall time per payment)", Ratio: math.NaN()},
		Row{Metric: "storage_settle_cpu_cost_after_archive_vs_before", Store: name, N: held, Value: c / cpu, Unit: "x (CPU time per payment)", Ratio: math.NaN()}), nil
}
