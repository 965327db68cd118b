package loadtest_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/loadtest"
)

// TestConcurrentSyncs has every device sync at once through the HTTP API,
// round after round, payer and payee uploading the same payments at the
// same time: every payment must settle exactly once, every log be fully
// acknowledged, each device's totals be exact and money be conserved.
func TestConcurrentSyncs(t *testing.T) {
	devices, rounds := 1000, 3
	switch {
	case raceEnabled && testing.Short():
		devices, rounds = 50, 2
	case raceEnabled:
		devices, rounds = 100, 3
	case testing.Short():
		devices, rounds = 200, 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	start := time.Now()
	r, err := loadtest.Run(ctx, loadtest.Options{Dir: t.TempDir(), Devices: devices, Rounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d devices, %d rounds: %d syncs in %v (%.0f syncs/s, %.0f payments/s settled), sync latency p50 %v, p99 %v; whole test %v",
		r.Devices, r.Rounds, r.Syncs, r.Elapsed.Round(time.Millisecond), r.SyncsPerSecond(), r.PaymentsPerSecond(),
		r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), time.Since(start).Round(time.Millisecond))
	if r.Report.Settled != int64(devices*rounds) {
		t.Fatalf("settled %d, want %d", r.Report.Settled, devices*rounds)
	}
}

// TestHerd brings a crowd of devices back at once, each with a few
// payments made and received offline, on SQLite and (with
// OFFPAY_TEST_POSTGRES) PostgreSQL: every upload is acknowledged in full,
// every payment settles exactly once, money is conserved, and the
// uploads that arrived together were applied together (fewer
// transactions than uploads: group commit).
func TestHerd(t *testing.T) {
	devices := 500
	if raceEnabled || testing.Short() {
		devices = 100
	}
	for i, pg := range []string{"", os.Getenv("OFFPAY_TEST_POSTGRES")} {
		name := "sqlite"
		if i == 1 {
			if pg == "" {
				continue
			}
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r, err := loadtest.Herd(ctx, loadtest.HerdOptions{Dir: t.TempDir(), Postgres: pg, Devices: devices, StoreFloor: true})
			if err != nil {
				t.Fatal(err)
			}
			// The write floor (SQLite) wrote the herd's rows, in its
			// commits: every entry uploaded and every payment, once.
			if f := r.StoreFloor; (f != nil) != (pg == "") {
				t.Fatalf("store floor %+v on %s", f, r.Store)
			} else if f != nil && (f.TableRows["entries"] != r.Entries || f.TableRows["payments"] != devices*3 || f.Transactions != int(r.Batches) || f.Wall <= 0) {
				t.Fatalf("store floor: %d entries (uploaded %d), %d payments (made %d), %d commits (group commit made %d)",
					f.TableRows["entries"], r.Entries, f.TableRows["payments"], devices*3, f.Transactions, r.Batches)
			}
			t.Logf("%s: %d devices (%d payments, %d entries) answered in %v (%.0f syncs/s, %v CPU a sync), p50 %v p99 %v p99.9 %v; %d uploads in %d transactions; setup %v",
				r.Store, r.Devices, r.Payments, r.Entries, r.Last.Round(time.Millisecond), r.SyncsPerSecond(), r.CPUPerSync().Round(time.Microsecond),
				r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.P999.Round(time.Microsecond), r.BatchedUploads, r.Batches, r.Setup.Round(time.Millisecond))
			if r.Report.Settled != int64(devices*3) {
				t.Fatalf("settled %d, want %d", r.Report.Settled, devices*3)
			}
			if r.BatchedUploads != int64(devices) || r.Batches >= r.BatchedUploads {
				t.Fatalf("%d uploads applied in %d transactions: the herd was not grouped", r.BatchedUploads, r.Batches)
			}
			// The serial part ran inside the herd's time, so the rate it
			// allows is at least the rate reached.
			if r.ApplyWall <= 0 || r.ApplyWall > r.Last || r.SerialCeiling() < r.SyncsPerSecond() {
				t.Fatalf("serial part: %v wall, %v CPU in a herd of %v; ceiling %.0f syncs/s below the %.0f reached",
					r.ApplyWall, r.ApplyCPU, r.Last, r.SerialCeiling(), r.SyncsPerSecond())
			}
		})
	}
}

// TestHerdTrace: HerdOptions.Trace receives an execution trace of the
// herd that names the goroutines applying batches (what a look at the
// serial part's waits needs), and a CPU profile can be taken beside it.
func TestHerdTrace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var tr, prof bytes.Buffer
	if _, err := loadtest.Herd(ctx, loadtest.HerdOptions{Dir: t.TempDir(), Devices: 20, Trace: &tr, CPUProfile: &prof}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(tr.Bytes(), []byte("go 1.")) || !bytes.Contains(tr.Bytes(), []byte("applyBatch")) {
		t.Fatalf("trace of %d bytes: not a trace of the herd (%q...)", tr.Len(), tr.Bytes()[:min(tr.Len(), 16)])
	}
	if prof.Len() == 0 {
		t.Fatal("no CPU profile beside the trace")
	}
}

// TestHerdOneUploadPerCommit: with ledger.Options.MaxBatch 1 (what offpay
// bench compares group commit with) every upload has a transaction of its
// own, and the herd still settles exactly once.
func TestHerdOneUploadPerCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := loadtest.Herd(ctx, loadtest.HerdOptions{Dir: t.TempDir(), Devices: 40, MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Batches != r.BatchedUploads || r.BatchedUploads != 40 {
		t.Fatalf("%d uploads in %d transactions, want one each", r.BatchedUploads, r.Batches)
	}
}
