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
	l, err := start(ctx, o.Dir, "", o.Devices, 0)
	if err != nil {
		return nil, err
	}
	defer l.close()
	svc, client := l.svc, l.client
	fleet, err := bench.NewFleet(ctx, bench.ServiceAdmin{Service: svc}, "EUR", o.Devices, o.Rounds)
	if err != nil {
		return nil, err
	}
	res := &Result{Devices: o.Devices, Rounds: o.Rounds, Payments: fleet.Payments}
	lat := make([]time.Duration, 0, o.Devices*o.Rounds)
	var mu sync.Mutex
	var firstErr error
	t0 := time.Now()
	for r, ups := range fleet.Rounds {
		var wg sync.WaitGroup
		for i, up := range ups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.Now()
				sr, err := client.Sync(ctx, up)
				d := time.Since(t)
				if err == nil && sr.Acked != lastEntry(up) {
					err = fmt.Errorf("acknowledged %d, uploaded up to %d", sr.Acked, lastEntry(up))
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
	res.Elapsed = time.Since(t0)
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

// running is a ledger served over HTTP on loopback and a client of it.
type running struct {
	store  string
	sq     *sqlite.Store // the SQLite store, nil on PostgreSQL
	svc    *ledger.Service
	client *ledgerclient.Client
	close  func()
}

// start opens a fresh ledger (SQLite under dir, or PostgreSQL in a schema
// of its own if pg is a URL), serves its HTTP API on loopback and makes a
// client that holds at most conns connections and never retries; maxBatch
// is ledger.Options.MaxBatch (0: the default) (nothing
// here injects faults: every call must succeed the first time).
func start(ctx context.Context, dir, pg string, conns, maxBatch int) (*running, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var st bench.Store
	var closeStore func()
	var err error
	l := &running{store: "sqlite"}
	if pg != "" {
		l.store = "postgres"
		st, closeStore, err = bench.OpenPostgres(ctx, pg)
	} else {
		var s *sqlite.Store
		s, err = sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
		st, closeStore, l.sq = s, func() { s.Close() }, s
	}
	if err != nil {
		return nil, err
	}
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		closeStore()
		return nil, err
	}
	l.svc = ledger.New(st, keys, ledger.Options{MaxBatch: maxBatch})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeStore()
		return nil, err
	}
	// The per-device rate limit stays on (each device syncs once per
	// round, well under it); per-client-address limits would see every
	// simulated device as one loopback client, so they are off.
	srv := &http.Server{Handler: server.New(l.svc, server.Options{AdminToken: "loadtest", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ClientRateLimit: server.RateLimit{Disabled: true}}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	l.close = func() {
		tr.CloseIdleConnections()
		srv.Close()
		closeStore()
	}
	l.client, err = ledgerclient.New("http://"+ln.Addr().String(), ledgerclient.Options{AdminToken: "loadtest",
		HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute}, Retries: -1})
	if err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}
