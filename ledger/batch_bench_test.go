package ledger_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/sqlite"
)

// BenchmarkApplyBatch measures the part of settlement that runs one batch
// at a time, the limit of a crowd's syncs per second: b.N devices that
// went offline (3 payments made and 3 received each, as in the herd of
// offpay bench) are prepared untimed, then applied in group commits of
// 128 uploads (then answered, untimed, as Sync does). Reports the wall and
// CPU time per upload (the CPU time of the whole process while only the
// applying goroutine runs: it moves less on a shared machine). Run with
// -benchtime=Nx: the fleet is set up for every run.
func BenchmarkApplyBatch(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ledger.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	keys, err := ledger.Init(filepath.Join(b.TempDir(), "keys"), "EUR", nil)
	if err != nil {
		b.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{})
	fleet, err := bench.NewOfflineFleet(ctx, bench.ServiceAdmin{Service: svc}, "EUR", max(b.N, 8), 3)
	if err != nil {
		b.Fatal(err)
	}
	ups := fleet.Rounds[0]
	var wall, cpu time.Duration
	b.ResetTimer()
	for lo := 0; lo < len(ups); lo += 128 {
		b.StopTimer()
		apply, answer, err := svc.PrepareBatchForTest(ctx, ups[lo:min(lo+128, len(ups))])
		if err != nil {
			b.Fatal(err)
		}
		c0, t0 := processCPU(), time.Now()
		b.StartTimer()
		apply()
		b.StopTimer()
		wall += time.Since(t0)
		cpu += processCPU() - c0
		for _, err := range answer() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(wall.Microseconds())/float64(len(ups)), "µs/upload")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(ups)), "cpu-µs/upload")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
