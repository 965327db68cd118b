package loadtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sync"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

// HerdOptions size a herd: the crowd of devices that comes back at once
// after an outage.
type HerdOptions struct {
	Dir      string // the SQLite database and keys go here
	Postgres string // if set, the ledger is on PostgreSQL (a schema of its own) instead of SQLite
	Devices  int
	Payments int // each device's payments while offline (default 3); it receives as many
	// MaxConns bounds the client's connections (default 4,000): both ends
	// of every connection are in this process, whose file limit is often
	// 20,000. Devices beyond it wait for a connection, and that wait is in
	// their latency.
	MaxConns int
	// MaxBatch is ledger.Options.MaxBatch: 1 applies each upload in a
	// transaction of its own (what group commit gains); 0 the default.
	MaxBatch int
	// CPUProfile, if set, receives a CPU profile of the herd alone (from
	// the release to the last answer: no set-up).
	CPUProfile io.Writer
	// Trace, if set, receives an execution trace (runtime/trace) of the
	// same span: where the goroutine applying batches waited (for a core,
	// in a system call, on a lock), which a CPU profile cannot show. `go
	// tool trace -pprof=sched` (or syscall, sync) turns it into a profile
	// of those waits.
	Trace io.Writer
	// Floor sends the uploads to the floor (floor.go) instead of the
	// ledger: what any ledger must do for a sync, and nothing kept. The
	// devices are still enrolled on a real ledger beforehand.
	Floor bool
	// StoreFloor, on SQLite, measures after the run what writing the rows
	// the uploads left alone costs one writer (sqlite.Store.WriteFloorAfter,
	// in as many commits as group commit made): HerdResult.StoreFloor.
	StoreFloor bool
}

// HerdResult is what a herd run measured. Each latency is one device's,
// from its request to its answer; Last is from the moment every device
// was let go to the last answer.
type HerdResult struct {
	Store                   string
	Devices, Payments       int
	Entries                 int // uploaded in all
	P50, P99, P999, Max     time.Duration
	Last                    time.Duration
	CPU                     time.Duration // this process's CPU time from the release to the last answer: the ledger's and its clients'
	Setup                   time.Duration // enrolment and signing, not timed in the rest
	Report                  *ledger.Report
	Batches, BatchedUploads int64 // group commit: transactions and the uploads they applied
	// ApplyWall and ApplyCPU are the time and the thread CPU time spent
	// applying batches: the serial part (ledger.BatchStats).
	ApplyWall, ApplyCPU time.Duration
	StoreFloor          *sqlite.Floor // HerdOptions.StoreFloor
}

// CPUPerSync is the process's CPU time per device answered (the ledger's
// work and its clients' HTTP, JSON and TCP work, all in this process): on
// a shared machine it moves far less than the wall-time figures.
func (r *HerdResult) CPUPerSync() time.Duration { return r.CPU / time.Duration(max(r.Devices, 1)) }

// SyncsPerSecond is the devices answered over the time to the last answer.
func (r *HerdResult) SyncsPerSecond() float64 { return float64(r.Devices) / r.Last.Seconds() }

// Herd enrols the devices (each with an account and a Load), lets each
// make its payments to others offline and receive as many, signs every
// device's single upload, then lets all of them upload at the same
// instant through the HTTP API and waits for every answer. Every upload
// must be fully acknowledged, and the report must show every payment
// settled exactly once and money conserved.
func Herd(ctx context.Context, o HerdOptions) (*HerdResult, error) {
	if o.Payments <= 0 {
		o.Payments = 3
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4000
	}
	l, err := start(ctx, o.Dir, o.Postgres, min(o.Devices, o.MaxConns), o.MaxBatch)
	if err != nil {
		return nil, err
	}
	defer l.close()
	setup := time.Now()
	fleet, err := bench.NewOfflineFleet(ctx, bench.ServiceAdmin{Service: l.svc}, "EUR", o.Devices, o.Payments)
	if err != nil {
		return nil, err
	}
	ups := fleet.Rounds[0]
	res := &HerdResult{Store: l.store, Devices: o.Devices, Payments: fleet.Payments, Setup: time.Since(setup)}
	for _, u := range ups {
		res.Entries += len(u.Entries)
	}
	client := l.client
	if o.Floor {
		c, stop, err := startFloor(ctx, l, ups, min(o.Devices, o.MaxConns))
		if err != nil {
			return nil, err
		}
		defer stop()
		client, res.Store = c, "floor"
	}
	var before map[string]int
	if o.StoreFloor && l.sq != nil && !o.Floor {
		if before, err = l.sq.RowCounts(ctx, sqlite.FloorTables); err != nil {
			return nil, err
		}
	}
	b0 := l.svc.Batches()
	lat := make([]time.Duration, len(ups))
	errs := make([]error, len(ups))
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for i, up := range ups {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-release
			t := time.Now()
			sr, err := client.Sync(ctx, up)
			lat[i] = time.Since(t)
			if err == nil && sr.Acked != lastEntry(up) {
				err = fmt.Errorf("acknowledged %d, uploaded up to %d", sr.Acked, lastEntry(up))
			}
			if err != nil {
				errs[i] = fmt.Errorf("device %d: %w", i, err)
			}
		}()
	}
	ready.Wait()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, err
		}
	}
	if o.Trace != nil {
		if err := trace.Start(o.Trace); err != nil {
			if o.CPUProfile != nil {
				pprof.StopCPUProfile()
			}
			return nil, err
		}
	}
	t0, cpu0 := time.Now(), bench.CPUTime()
	close(release)
	done.Wait()
	if o.Trace != nil {
		trace.Stop()
	}
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	res.Last, res.CPU = time.Since(t0), bench.CPUTime()-cpu0
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(math.Ceil(p*float64(len(lat))))-1)] }
	res.P50, res.P99, res.P999, res.Max = q(0.50), q(0.99), q(0.999), lat[len(lat)-1]
	if o.Floor {
		return res, nil // it kept nothing to check
	}
	b1 := l.svc.Batches()
	res.Batches, res.BatchedUploads = b1.Batches-b0.Batches, b1.Uploads-b0.Uploads
	res.ApplyWall, res.ApplyCPU = b1.ApplyWall-b0.ApplyWall, b1.ApplyCPU-b0.ApplyCPU
	if res.Report, err = l.client.Report(ctx); err != nil {
		return nil, err
	}
	if err := fleet.Check(res.Report); err != nil {
		return nil, err
	}
	if before != nil {
		f, err := l.sq.WriteFloorAfter(ctx, filepath.Join(o.Dir, "store-floor"), sqlite.FloorTables, int(res.Batches), before)
		if err != nil {
			return nil, fmt.Errorf("store floor: %w", err)
		}
		res.StoreFloor = &f
	}
	return res, nil
}

// SerialPerUpload is the serial part's cost per upload: on SQLite its CPU
// time (its wall time where no thread CPU clock is), on PostgreSQL its
// wall time, since there the serial part mostly waits for round trips and
// the server's work, which its thread's CPU time leaves out.
func (r *HerdResult) SerialPerUpload() time.Duration {
	d := r.ApplyCPU
	if d == 0 || r.Store == "postgres" {
		d = r.ApplyWall
	}
	return d / time.Duration(max(r.BatchedUploads, 1))
}

// SerialCeiling is the syncs a second at which the serial part would be
// busy all the time: the most this ledger process could answer with
// cores to spare for the rest. On a loaded machine the wall time
// includes waits for a core, so PostgreSQL's ceiling is a low estimate.
func (r *HerdResult) SerialCeiling() float64 {
	return float64(time.Second) / float64(max(r.SerialPerUpload(), 1))
}

// Rows are the run's figures for offpay bench's table.
func (r *HerdResult) Rows() []bench.Row {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	nan := math.NaN()
	row := func(metric string, v float64, unit string) bench.Row {
		return bench.Row{Metric: metric, Store: r.Store, N: r.Devices, Value: v, Unit: unit, Ratio: nan}
	}
	perBatch := float64(r.BatchedUploads) / math.Max(1, float64(r.Batches))
	rows := []bench.Row{
		row("herd_syncs", r.SyncsPerSecond(), "syncs/s"),
		row("herd_latency_p50", ms(r.P50), "ms"),
		row("herd_latency_p99", ms(r.P99), "ms"),
		row("herd_latency_p999", ms(r.P999), "ms"),
		row("herd_last_answer", ms(r.Last), "ms"),
		row("herd_cpu_per_sync", float64(r.CPUPerSync().Microseconds()), "µs CPU (ledger and clients)"),
		row("herd_uploads_per_commit", perBatch, "uploads/transaction"),
		row("herd_serial_per_upload", float64(r.SerialPerUpload().Microseconds()), "µs (applying, one batch at a time: CPU on SQLite, wall on PostgreSQL)"),
		row("herd_serial_ceiling", r.SerialCeiling(), "syncs/s (with cores to spare)"),
	}
	if f := r.StoreFloor; f != nil {
		per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(max(r.Devices, 1)) }
		rows = append(rows,
			bench.Row{Metric: "herd_store_floor", Store: r.Store, N: r.Devices, Value: float64(r.Devices) / f.Wall.Seconds(),
				Unit: "syncs/s (the uploads' rows written alone, one writer, as many commits)", Ratio: r.SyncsPerSecond() * f.Wall.Seconds() / float64(r.Devices)},
			row("herd_store_floor_cpu", per(f.CPU), fmt.Sprintf("µs CPU an upload on the writer's thread (%d rows)", f.Rows)))
	}
	return rows
}

// HerdFunc runs the herd for offpay bench: devices devices on SQLite, and
// on PostgreSQL too if pg is a URL. Up to 1,000 devices it runs each
// herd again with one upload per transaction, and adds what group commit
// gains (herd_group_commit_gain: syncs/s grouped over syncs/s alone).
// The floor (floor.go) runs before and after the stores: herd_syncs'
// ratio is to the mean of its two rates, the limit of this machine with
// these clients measured in the same run.
func HerdFunc(ctx context.Context, dir, pg string, devices int) ([]bench.Row, error) {
	stores := []string{""} // SQLite
	if pg != "" {
		stores = append(stores, pg)
	}
	run := func(url string, maxBatch int, floor bool) (*HerdResult, error) {
		return Herd(ctx, HerdOptions{Dir: filepath.Join(dir, fmt.Sprintf("herd-%d", time.Now().UnixNano())), Postgres: url, Devices: devices,
			MaxBatch: maxBatch, Floor: floor, StoreFloor: maxBatch == 0})
	}
	floor, err := run("", 0, true)
	if err != nil {
		return nil, err
	}
	var rows []bench.Row
	for _, url := range stores {
		r, err := run(url, 0, false)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r.Rows()...)
		if devices > 1000 {
			continue
		}
		alone, err := run(url, 1, false)
		if err != nil {
			return nil, err
		}
		rows = append(rows,
			bench.Row{Metric: "herd_syncs_one_upload_per_commit", Store: r.Store, N: devices, Value: alone.SyncsPerSecond(), Unit: "syncs/s", Ratio: math.NaN()},
			bench.Row{Metric: "herd_group_commit_gain", Store: r.Store, N: devices, Value: r.SyncsPerSecond() / alone.SyncsPerSecond(), Unit: "x (syncs/s)", Ratio: math.NaN()})
	}
	after, err := run("", 0, true)
	if err != nil {
		return nil, err
	}
	limit := (floor.SyncsPerSecond() + after.SyncsPerSecond()) / 2
	for i := range rows {
		if rows[i].Metric == "herd_syncs" {
			rows[i].Ratio = rows[i].Value / limit
		}
	}
	ms := func(a, b time.Duration) float64 { return float64((a + b).Microseconds()) / 2000 }
	frow := func(metric string, v float64, unit string, ratio float64) bench.Row {
		return bench.Row{Metric: metric, Store: "-", N: devices, Value: v, Unit: unit, Ratio: ratio}
	}
	return append([]bench.Row{
		frow("herd_floor_syncs", limit, "syncs/s (no store: the limit, mean of a run before and after)", 1),
		frow("herd_floor_latency_p99", ms(floor.P99, after.P99), "ms", math.NaN()),
		frow("herd_floor_last_answer", ms(floor.Last, after.Last), "ms", math.NaN()),
		frow("herd_floor_cpu_per_sync", float64((floor.CPUPerSync()+after.CPUPerSync()).Microseconds())/2, "µs CPU (floor and clients)", math.NaN()),
	}, rows...), nil
}

// lastEntry is the counter of an upload's last entry.
func lastEntry(u *protocol.SyncUpload) uint64 { return u.Entries[len(u.Entries)-1].Counter }
