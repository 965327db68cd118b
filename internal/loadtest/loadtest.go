// Package loadtest runs many simulated devices syncing at once through the ledger's real HTTP API on loopback, and checks that nothing is lost or duplicated.
package loadtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
)

// Options size a run.
type Options struct {
	Dir     string // the SQLite database and keys go here
	Devices int
	Rounds  int
}

// Result is what a run measured. Latency is per Sync call as a device sees
// it over HTTP; Throughput counts settled payments over the rounds' wall
// time (each payment is uploaded twice, by both sides).
type Result struct {
	Devices, Rounds, Syncs, Payments int
	P50, P99                         time.Duration
	Elapsed                          time.Duration
	Report                           *ledger.Report
}

// SyncsPerSecond is the rate of Sync calls answered.
func (r *Result) SyncsPerSecond() float64 { return float64(r.Syncs) / r.Elapsed.Seconds() }

// PaymentsPerSecond is the rate of payments settled.
func (r *Result) PaymentsPerSecond() float64 { return float64(r.Payments) / r.Elapsed.Seconds() }

// Run enrols the devices, signs every round beforehand, then in each round
// lets every device upload its new entries at the same time through the
// HTTP API, and finally checks the ledger's report against what the
// devices did. A device whose sync fails fails the run: nothing here
// injects faults, so every call must succeed.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(o.Dir, "ledger.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	keys, err := ledger.Init(filepath.Join(o.Dir, "keys"), "EUR", nil)
	if err != nil {
		return nil, err
	}
	svc := ledger.New(st, keys, ledger.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// The per-device rate limit stays on (each device syncs once per
	// round, well under it); per-client-address limits would see every
	// simulated device as one loopback client, so they are off.
	srv := &http.Server{Handler: server.New(svc, server.Options{AdminToken: "loadtest", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ClientRateLimit: server.RateLimit{Disabled: true}}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: o.Devices, MaxIdleConnsPerHost: o.Devices, MaxConnsPerHost: o.Devices}
	defer tr.CloseIdleConnections()
	client, err := ledgerclient.New("http://"+ln.Addr().String(), ledgerclient.Options{AdminToken: "loadtest",
		HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute}, Retries: -1})
	if err != nil {
		return nil, err
	}
	fleet, err := bench.NewFleet(ctx, bench.ServiceAdmin{Service: svc}, "EUR", o.Devices, o.Rounds)
	if err != nil {
		return nil, err
	}
	res := &Result{Devices: o.Devices, Rounds: o.Rounds, Payments: fleet.Payments}
	lat := make([]time.Duration, 0, o.Devices*o.Rounds)
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for r, ups := range fleet.Rounds {
		var wg sync.WaitGroup
		for i, up := range ups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.Now()
				sr, err := client.Sync(ctx, up)
				d := time.Since(t)
				if err == nil && sr.Acked != up.Entries[len(up.Entries)-1].Counter {
					err = fmt.Errorf("acknowledged %d, uploaded up to %d", sr.Acked, up.Entries[len(up.Entries)-1].Counter)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("round %d, device %d: %w", r, i, err)
				}
				lat = append(lat, d)
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return nil, firstErr
		}
	}
	res.Elapsed = time.Since(start)
	res.Syncs = len(lat)
	res.P50, res.P99 = bench.Quantiles(lat)
	if res.Report, err = client.Report(ctx); err != nil {
		return nil, err
	}
	return res, fleet.Check(res.Report)
}

// Rows are the run's figures for offpay bench's table.
func (r *Result) Rows() []bench.Row {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	nan := math.NaN()
	return []bench.Row{
		{Metric: "loadtest_sync_latency_p50", Store: "sqlite", N: r.Devices, Value: ms(r.P50), Unit: "ms", Ratio: nan},
		{Metric: "loadtest_sync_latency_p99", Store: "sqlite", N: r.Devices, Value: ms(r.P99), Unit: "ms", Ratio: nan},
		{Metric: "loadtest_syncs", Store: "sqlite", N: r.Devices, Value: r.SyncsPerSecond(), Unit: "syncs/s", Ratio: nan},
		{Metric: "loadtest_settled", Store: "sqlite", N: r.Devices, Value: r.PaymentsPerSecond(), Unit: "payments/s", Ratio: nan},
	}
}

// BenchFunc runs the load test for offpay bench: three rounds.
func BenchFunc(ctx context.Context, dir string, devices int) ([]bench.Row, error) {
	r, err := Run(ctx, Options{Dir: filepath.Join(dir, fmt.Sprintf("loadtest-%d", time.Now().UnixNano())), Devices: devices, Rounds: 3})
	if err != nil {
		return nil, err
	}
	return r.Rows(), nil
}
