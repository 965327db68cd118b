package loadtest_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/loadtest"
)

// TestHerdProfile runs one herd of OFFPAY_HERD_DEVICES devices (skipped
// unless set) and, with OFFPAY_HERD_PROFILE, writes a CPU profile of the
// herd alone (release to last answer) to that file: what to look at
// before cutting the CPU a sync costs; OFFPAY_HERD_TRACE an execution
// trace of the same span (HerdOptions.Trace). OFFPAY_HERD_POSTGRES, a
// PostgreSQL URL, puts the ledger there instead of on SQLite;
// OFFPAY_HERD_MAXBATCH sets ledger.Options.MaxBatch (uploads a group
// commit applies together at most).
func TestHerdProfile(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("OFFPAY_HERD_DEVICES"))
	if n <= 0 {
		t.Skip("OFFPAY_HERD_DEVICES not set")
	}
	o := loadtest.HerdOptions{Dir: t.TempDir(), Devices: n, Postgres: os.Getenv("OFFPAY_HERD_POSTGRES"),
		Floor: os.Getenv("OFFPAY_HERD_FLOOR") != "", StoreFloor: os.Getenv("OFFPAY_HERD_STORE_FLOOR") != ""}
	o.MaxBatch, _ = strconv.Atoi(os.Getenv("OFFPAY_HERD_MAXBATCH"))
	// out creates the file env names, if it is set.
	out := func(env string) io.Writer {
		p := os.Getenv(env)
		if p == "" {
			return nil
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	o.CPUProfile, o.Trace = out("OFFPAY_HERD_PROFILE"), out("OFFPAY_HERD_TRACE")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := loadtest.Herd(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d devices: %.0f syncs/s, last %v, %v CPU a sync, p50 %v p99 %v; %d uploads in %d transactions; serial %v CPU an upload (ceiling %.0f syncs/s), %v wall",
		r.Store, r.Devices, r.SyncsPerSecond(), r.Last.Round(time.Millisecond), r.CPUPerSync().Round(time.Microsecond),
		r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.BatchedUploads, r.Batches,
		r.SerialPerUpload().Round(time.Microsecond), r.SerialCeiling(), (r.ApplyWall / time.Duration(max(r.BatchedUploads, 1))).Round(time.Microsecond))
	if f := r.StoreFloor; f != nil {
		per := func(d time.Duration) time.Duration { return (d / time.Duration(r.Devices)).Round(time.Microsecond) }
		t.Logf("store floor: %d rows in %d commits: %.0f syncs/s, %v wall and %v CPU an upload; by table %v (CPU, whole run)",
			f.Rows, f.Transactions, float64(r.Devices)/f.Wall.Seconds(), per(f.Wall), per(f.CPU), f.TableCPU)
	}
}
