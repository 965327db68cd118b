package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/sqlite/replica"
)

// Recovery measures what a dead disk loses and how long the ledger takes
// to serve again (README "Operating the ledger"):
//
//   - RPO: a SQLite ledger replicated continuously (ledger serve
//     --replicate) under a steady sync load; at a random moment the
//     replica is cut off, as if the disk and the process had died then.
//     The replica is restored, and each upload the ledger had acknowledged
//     before that moment but the replica lacks is counted: the commits
//     lost, and how far back the oldest of them was acknowledged.
//   - RTO: a ledger holding n settled payments; on SQLite, restored from
//     its replica (and from a VACUUM INTO backup), checked (integrity,
//     reconciliation: what offpay ledger restore does) and serving again
//     (opened, bound, its first answer over HTTP); on PostgreSQL, the same
//     from a pg_dump (verified in a scratch database, then restored).
type RecoveryConfig struct {
	Dir      string
	Postgres string        // "" skips the PostgreSQL rows
	N        int           // settled payments for the RTO rows
	Runs     int           // RPO runs at each interval
	LoadFor  time.Duration // steady load before the cut (randomised ±50%)
	Progress func(desc string, frac float64)
}

// The steady sync load of the RPO runs: rpoDevices devices, each
// uploading rpoPerUpload payments (pay and confirm entries) every
// rpoEvery: 100 uploads, 1,000 payments per second in all.
const (
	rpoDevices   = 10
	rpoPerUpload = 10
	rpoEvery     = 100 * time.Millisecond
)

// RPOIntervals are the --replicate-interval values measured.
var RPOIntervals = []time.Duration{time.Second, 100 * time.Millisecond}

// Recovery runs the RPO and RTO measurements.
func Recovery(ctx context.Context, cfg RecoveryConfig) ([]Row, []string, error) {
	var rows []Row
	var notes []string
	progress := func(desc string, f float64) {
		if cfg.Progress != nil {
			cfg.Progress(desc, f)
		}
	}
	for _, every := range RPOIntervals {
		var lost, window, acked []float64
		for run := range cfg.Runs {
			progress(fmt.Sprintf("RPO, interval %s, run %d", every, run+1), 0)
			r, err := rpoRun(ctx, filepath.Join(cfg.Dir, fmt.Sprintf("rpo-%d-%d", every.Milliseconds(), run)), every, cfg.LoadFor)
			if err != nil {
				return nil, nil, fmt.Errorf("RPO run: %w", err)
			}
			lost, window, acked = append(lost, float64(r.lostUploads)), append(window, r.window.Seconds()), append(acked, float64(r.acked))
		}
		name := fmt.Sprintf("_interval_%s", every)
		rows = append(rows,
			Row{Metric: "replica_rpo_commits_median" + name, Store: "sqlite", N: cfg.Runs, Value: median(lost), Unit: "acknowledged uploads lost", Ratio: math.NaN()},
			Row{Metric: "replica_rpo_commits_max" + name, Store: "sqlite", N: cfg.Runs, Value: slices.Max(lost), Unit: "acknowledged uploads lost", Ratio: math.NaN()},
			Row{Metric: "replica_rpo_seconds_median" + name, Store: "sqlite", N: cfg.Runs, Value: median(window), Unit: "s of acknowledged commits lost", Ratio: math.NaN()},
			Row{Metric: "replica_rpo_seconds_max" + name, Store: "sqlite", N: cfg.Runs, Value: slices.Max(window), Unit: "s of acknowledged commits lost", Ratio: math.NaN()})
		notes = append(notes, fmt.Sprintf("RPO at --replicate-interval %s: %d runs, %.0f to %.0f uploads acknowledged before each cut (%d devices, %d payments per upload, one upload per device every %s); uploads lost per run %v, seconds lost per run %v.",
			every, cfg.Runs, slices.Min(acked), slices.Max(acked), rpoDevices, rpoPerUpload, rpoEvery, lost, rounded(window)))
	}
	progress("settlement with and without replication", 0)
	r, err := settleReplicated(ctx, filepath.Join(cfg.Dir, "cost"), max(cfg.N/10, 10_000))
	if err != nil {
		return nil, nil, fmt.Errorf("settlement with replication: %w", err)
	}
	rows = append(rows, r...)
	progress(fmt.Sprintf("RTO, %d payments on SQLite", cfg.N), 0)
	r, err = rtoSQLite(ctx, filepath.Join(cfg.Dir, "rto-sqlite"), cfg.N, progress)
	if err != nil {
		return nil, nil, fmt.Errorf("RTO on SQLite: %w", err)
	}
	rows = append(rows, r...)
	if cfg.Postgres == "" {
		notes = append(notes, "PostgreSQL RTO rows skipped: no --postgres URL and OFFPAY_TEST_POSTGRES is not set.")
		return rows, notes, nil
	}
	progress(fmt.Sprintf("RTO, %d payments on PostgreSQL", cfg.N), 0)
	r, err = rtoPostgres(ctx, cfg.Dir, cfg.Postgres, cfg.N, progress)
	if err != nil {
		return nil, nil, fmt.Errorf("RTO on PostgreSQL: %w", err)
	}
	return append(rows, r...), notes, nil
}

// settleReplicated settles n payments on SQLite without replication,
// then with it (the default interval): what --replicate costs.
func settleReplicated(ctx context.Context, dir string, n int) ([]Row, error) {
	defer os.RemoveAll(dir)
	var rows []Row
	for _, replicated := range []bool{false, true} {
		d := filepath.Join(dir, fmt.Sprint(replicated))
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		dbPath := filepath.Join(d, "ledger.db")
		st, err := sqlite.Open(ctx, dbPath)
		if err != nil {
			return nil, err
		}
		keys, err := ledger.Init(filepath.Join(d, "keys"), "EUR", nil)
		if err != nil {
			st.Close()
			return nil, err
		}
		var rep *replica.Replicator
		metric := "settle_throughput_unreplicated"
		if replicated {
			metric = "settle_throughput_replicated"
			if rep, err = replica.Start(ctx, dbPath, filepath.Join(d, "replica"), "bench", replica.Options{Logger: discardLogger()}); err != nil {
				st.Close()
				return nil, err
			}
		}
		res, err := Settle(ctx, ledger.New(st, keys, ledger.Options{}), n, nil)
		st.Close()
		if rep != nil {
			rep.Close(ctx)
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, Row{Metric: metric, Store: "sqlite", N: n, Value: res.Rate(), Unit: "payments/s", Ratio: math.NaN()})
	}
	return rows, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func rounded(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*1000) / 1000
	}
	return out
}

type rpoResult struct {
	acked       int           // uploads acknowledged before the cut
	lostUploads int           // of those, the ones the replica lacks
	window      time.Duration // from the oldest lost acknowledgement to the cut
}

// rpoRun is one RPO run: a replicated SQLite ledger under the steady
// load, cut off after about loadFor.
func rpoRun(ctx context.Context, dir string, every, loadFor time.Duration) (rpoResult, error) {
	var res rpoResult
	if err := os.MkdirAll(filepath.Join(dir, "disk"), 0o700); err != nil {
		return res, err
	}
	dbPath := filepath.Join(dir, "disk", "ledger.db")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return res, err
	}
	defer st.Close()
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		return res, err
	}
	svc := ledger.New(st, keys, ledger.Options{})
	a := ServiceAdmin{svc}
	shop, _, err := NewEnrolled(ctx, a, "EUR", "shop", true, 0, 0)
	if err != nil {
		return res, err
	}
	// Enough signed uploads for 2×loadFor at the steady rate.
	per := int(2*loadFor/rpoEvery) + 10
	type device struct {
		d   *Device
		ups []*protocol.SyncUpload
	}
	devs := make([]device, rpoDevices)
	received := uint64(0) // the shop's receive counter: one per payment
	for i := range devs {
		d, head, err := NewEnrolled(ctx, a, "EUR", fmt.Sprintf("payer%d", i), false, 10_000, 5_000)
		if err != nil {
			return res, err
		}
		entries := head
		for range per * rpoPerUpload {
			e, b := d.Pay(shop.ID, 1)
			received++
			entries = append(entries, e, d.Confirm(shop.Receipt(b, received)))
		}
		devs[i] = device{d, d.Chunks(entries, 2*rpoPerUpload)}
	}
	var cut atomic.Bool
	rep, err := replica.Start(ctx, dbPath, filepath.Join(dir, "replica"), "bench", replica.Options{Interval: every, Logger: discardLogger(), Cut: &cut})
	if err != nil {
		return res, err
	}
	type ack struct {
		dev     int
		counter uint64
		at      time.Time
	}
	var mu sync.Mutex
	var acks []ack
	var cutAt atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var loadErr error
	for i := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Devices start spread over one period, then keep the pace.
			time.Sleep(time.Duration(i) * rpoEvery / rpoDevices)
			t := time.NewTicker(rpoEvery)
			defer t.Stop()
			for _, u := range devs[i].ups {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				r, err := svc.Sync(ctx, u)
				now := time.Now()
				if err != nil {
					mu.Lock()
					loadErr = err
					mu.Unlock()
					return
				}
				mu.Lock()
				acks = append(acks, ack{i, r.Acked, now})
				mu.Unlock()
			}
		}()
	}
	wait := loadFor/2 + rand.N(loadFor)
	time.Sleep(wait)
	cut.Store(true) // the disk and the process die here
	cutAt.Store(time.Now().UnixNano())
	close(stop)
	wg.Wait()
	if loadErr != nil {
		return res, loadErr
	}
	st.Close()
	dead, cancel := context.WithCancel(ctx)
	cancel()
	rep.Close(dead)

	out := filepath.Join(dir, "restored", "ledger.db")
	if _, err := replica.Restore(ctx, filepath.Join(dir, "replica"), out, time.Time{}); err != nil {
		return res, err
	}
	rs, err := sqlite.Open(ctx, out)
	if err != nil {
		return res, err
	}
	defer rs.Close()
	held := map[protocol.KeyID]uint64{}
	if err := rs.View(ctx, func(tx ledger.Tx) error {
		all, err := tx.AllDevices(ctx)
		for _, d := range all {
			held[d.ID] = d.Acked
		}
		return err
	}); err != nil {
		return res, err
	}
	k := time.Unix(0, cutAt.Load())
	var oldest time.Time
	for _, a := range acks {
		if !a.at.Before(k) {
			continue // acknowledged after the disk died: never acknowledged
		}
		res.acked++
		if a.counter > held[devs[a.dev].d.ID] {
			res.lostUploads++
			if oldest.IsZero() || a.at.Before(oldest) {
				oldest = a.at
			}
		}
	}
	if !oldest.IsZero() {
		res.window = k.Sub(oldest)
	}
	os.RemoveAll(dir)
	return res, nil
}

// rtoSQLite settles n payments on SQLite, replicates the database, loses
// it and brings the ledger back from the replica, then from a backup.
func rtoSQLite(ctx context.Context, dir string, n int, progress func(string, float64)) ([]Row, error) {
	defer os.RemoveAll(dir)
	disk := filepath.Join(dir, "disk")
	if err := os.MkdirAll(disk, 0o700); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(disk, "ledger.db")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	if _, err := Settle(ctx, ledger.New(st, keys, ledger.Options{}), n, func(done int) { progress(fmt.Sprintf("RTO, settling %d on SQLite", n), float64(done)/float64(n)) }); err != nil {
		st.Close()
		return nil, err
	}
	backup := filepath.Join(dir, "ledger.backup")
	t0 := time.Now()
	if err := st.Backup(ctx, backup); err != nil {
		st.Close()
		return nil, err
	}
	backupTook := time.Since(t0)
	progress("RTO, first replication (a full copy)", 0)
	rdir := filepath.Join(dir, "replica")
	t0 = time.Now()
	rep, err := replica.Start(ctx, dbPath, rdir, "bench", replica.Options{Logger: discardLogger()})
	if err != nil {
		st.Close()
		return nil, err
	}
	firstSync := time.Since(t0)
	st.Close()
	if err := rep.Close(ctx); err != nil {
		return nil, err
	}
	fi, err := os.Stat(dbPath)
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	os.RemoveAll(disk) // the disk dies

	row := func(metric string, v float64, unit string) Row {
		return Row{Metric: metric, Store: "sqlite", N: n, Value: v, Unit: unit, Ratio: math.NaN()}
	}
	rows := []Row{row("db_size", float64(size)/(1<<20), "MiB"),
		row("backup_vacuum_into", backupTook.Seconds(), "s"),
		row("replica_first_sync_full_copy", firstSync.Seconds(), "s")}

	// From the replica, as offpay ledger restore --from-replica does it,
	// then served again.
	progress("RTO, restoring from the replica", 0)
	newDisk := filepath.Join(dir, "new-disk")
	t0 = time.Now()
	if _, err := replica.Restore(ctx, rdir, filepath.Join(newDisk, "staged.db"), time.Time{}); err != nil {
		return nil, err
	}
	restoreTook := time.Since(t0)
	progress("RTO, verifying the restored copy", 0)
	t1 := time.Now()
	if err := verifySQLite(ctx, filepath.Join(newDisk, "staged.db"), keys, n); err != nil {
		return nil, err
	}
	if err := sqlite.MoveFile(filepath.Join(newDisk, "staged.db"), filepath.Join(newDisk, "ledger.db")); err != nil {
		return nil, err
	}
	verifyTook := time.Since(t1)
	t2 := time.Now()
	if err := serveOnce(ctx, filepath.Join(newDisk, "ledger.db"), keys); err != nil {
		return nil, err
	}
	serveTook := time.Since(t2)
	rows = append(rows,
		row("rto_replica_restore", restoreTook.Seconds(), "s"),
		row("rto_replica_verify", verifyTook.Seconds(), "s (integrity check, reconciliation)"),
		row("rto_serve_first_answer", serveTook.Seconds(), "s (open, bind, first HTTP answer)"),
		row("rto_total_from_replica", time.Since(t0).Seconds(), "s"))

	// From the backup, as offpay ledger restore --from does it (a
	// verified scratch copy, then the copy put in place).
	progress("RTO, restoring from the backup", 0)
	os.RemoveAll(newDisk)
	os.MkdirAll(newDisk, 0o700)
	t0 = time.Now()
	scratch := filepath.Join(dir, "scratch.db")
	if err := copyFile(backup, scratch); err != nil {
		return nil, err
	}
	if err := verifySQLite(ctx, scratch, keys, n); err != nil {
		return nil, err
	}
	os.Remove(scratch)
	if err := sqlite.RestoreFile(backup, filepath.Join(newDisk, "ledger.db")); err != nil {
		return nil, err
	}
	if err := serveOnce(ctx, filepath.Join(newDisk, "ledger.db"), keys); err != nil {
		return nil, err
	}
	return append(rows, row("rto_total_from_backup", time.Since(t0).Seconds(), "s")), nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// verifySQLite checks a restored database in place: integrity, every
// payment settled, money conserved.
func verifySQLite(ctx context.Context, path string, keys *ledger.Keys, n int) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Check(ctx); err != nil {
		return err
	}
	return checkReport(ctx, ledger.New(st, keys, ledger.Options{}), n)
}

func checkReport(ctx context.Context, svc *ledger.Service, n int) error {
	r, err := svc.Report(ctx)
	if err != nil {
		return err
	}
	if !r.ConservationOK || r.Settled != int64(n) {
		return fmt.Errorf("restored: %d settled of %d, conservation %v", r.Settled, n, r.ConservationOK)
	}
	return nil
}

// serveOnce opens the database at path as ledger serve does (a write: the
// data folder's binding) and waits for its first answer over HTTP.
func serveOnce(ctx context.Context, path string, keys *ledger.Keys) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	return firstAnswer(ctx, st, keys)
}

func firstAnswer(ctx context.Context, st ledger.Store, keys *ledger.Keys) error {
	if err := st.Update(ctx, func(tx ledger.Tx) error { return tx.PutMeta(ctx, "bench_bound", []byte("1")) }); err != nil {
		return err
	}
	url, stop, err := serve(ledger.New(st, keys, ledger.Options{}))
	if err != nil {
		return err
	}
	defer stop()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	return nil
}

// rtoPostgres settles n payments on PostgreSQL, dumps them (pg_dump),
// drops the schema and brings the ledger back from the dump: verified in
// a scratch database first, then restored in place (pg_restore), as
// offpay ledger restore --db does it.
func rtoPostgres(ctx context.Context, dir, dsn string, n int, progress func(string, float64)) ([]Row, error) {
	s, closeFn, err := OpenPostgres(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	st := s.(*postgres.Store)
	keys, err := ledger.Init(filepath.Join(dir, "pg-keys"), "EUR", nil)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(filepath.Join(dir, "pg-keys"))
	if _, err := Settle(ctx, ledger.New(st, keys, ledger.Options{}), n, func(done int) { progress(fmt.Sprintf("RTO, settling %d on PostgreSQL", n), float64(done)/float64(n)) }); err != nil {
		return nil, err
	}
	progress("RTO, pg_dump", 0)
	dump := filepath.Join(dir, "ledger.pgdump")
	defer os.Remove(dump)
	t0 := time.Now()
	if err := st.Backup(ctx, dump); err != nil {
		return nil, err
	}
	dumpTook := time.Since(t0)
	fi, err := os.Stat(dump)
	if err != nil {
		return nil, err
	}
	progress("RTO, pg_restore into a scratch database", 0)
	t0 = time.Now()
	sc, drop, err := postgres.Scratch(ctx, dsn, dump)
	if err != nil {
		return nil, err
	}
	err = checkReport(ctx, ledger.New(sc, keys, ledger.Options{}), n)
	sc.Close()
	drop()
	if err != nil {
		return nil, err
	}
	verifyTook := time.Since(t0)
	progress("RTO, pg_restore in place", 0)
	t1 := time.Now()
	if err := st.Restore(ctx, dump); err != nil {
		return nil, err
	}
	restoreTook := time.Since(t1)
	t2 := time.Now()
	if err := firstAnswer(ctx, st, keys); err != nil {
		return nil, err
	}
	serveTook := time.Since(t2)
	row := func(metric string, v float64, unit string) Row {
		return Row{Metric: metric, Store: "postgres", N: n, Value: v, Unit: unit, Ratio: math.NaN()}
	}
	return []Row{row("dump_size", float64(fi.Size())/(1<<20), "MiB"),
		row("backup_pg_dump", dumpTook.Seconds(), "s"),
		row("rto_pg_restore_verify_scratch", verifyTook.Seconds(), "s (pg_restore into a scratch database, reconciliation)"),
		row("rto_pg_restore", restoreTook.Seconds(), "s"),
		row("rto_serve_first_answer", serveTook.Seconds(), "s"),
		row("rto_total_from_backup", time.Since(t0).Seconds(), "s")}, nil
}
