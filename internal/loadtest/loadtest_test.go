package loadtest_test

import (
	"context"
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
