package vse_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// BenchmarkPayAcceptConfirm is one offline payment between two SEs in
// this process: request, pay, receive, confirm, each write fsynced. It
// reports the median and p99 latency of the pay+receive+confirm part.
// Both SEs sync (untimed) every 50 payments, as devices online now and
// then do, so the logs stay at most 100 entries; BenchmarkStateSize10k
// measures the cost of a large unsynced log.
func BenchmarkPayAcceptConfirm(b *testing.B) {
	p := prototest.NewPKI("bench")
	p.Limits.MaxOfflineCount = 1 << 40
	p.Limits.MaxOfflineValue = 1 << 60
	p.Limits.Holding = 1 << 60
	a := setest.New(b, p, filepath.Join(b.TempDir(), "a"), "alice", 1, nil)
	c := setest.New(b, p, filepath.Join(b.TempDir(), "c"), "carol", 2, nil)
	if err := a.ApplyLoad(p.Load(a.ID(), 1, 1<<50, now)); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := now + uint64(i)*30 // a busy till: two payments a minute
		if i%50 == 49 {
			b.StopTimer()
			for _, v := range []*vse.VSE{a, c} {
				if err := v.ApplySyncResult(syncResult(p, v.ID(), status(b, v).Counter, t)); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		req, err := c.NewRequest(se.RequestParams{Amount: 1, Expiry: t + 300}, t)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		bundle, err := a.Pay(req, 0, t)
		if err != nil {
			b.Fatal(err)
		}
		rc, err := c.Receive(bundle, t)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.ConfirmReceipt(rc, t); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkStateSize10k fills a payee's log with 10,000 unsynced entries
// (the worst case: nothing acked, nothing pruned) and reports the sizes
// of the state file and of the log file the entries spilled into, the
// time of one more receive at that size, then syncs and reports the
// state's size after pruning.
func BenchmarkStateSize10k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		stateSize10k(b)
	}
}

func stateSize10k(b *testing.B) {
	p := prototest.NewPKI("size")
	p.Limits.MaxOfflineCount = 1 << 40
	p.Limits.MaxOfflineValue = 1 << 60
	p.Limits.Holding = 1 << 60
	a := setest.New(b, p, filepath.Join(b.TempDir(), "a"), "alice", 1, nil)
	if err := a.ApplyLoad(p.Load(a.ID(), 1, 1<<50, now)); err != nil {
		b.Fatal(err)
	}
	dirC := filepath.Join(b.TempDir(), "c")
	c := setest.New(b, p, dirC, "carol", 2, nil)
	req, err := c.NewRequest(se.RequestParams{Amount: 1, Expiry: now + 3600}, now)
	if err != nil {
		b.Fatal(err)
	}
	bundle, err := a.Pay(req, 0, now)
	if err != nil {
		b.Fatal(err)
	}
	// Receive entries are the largest kind (they carry the payer's
	// certificate); 9,999 of them plus one real receive timed at that size.
	if err := c.FillLogForTest(bundle, 9999); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if _, err := c.Receive(bundle, now); err != nil {
		b.Fatal(err)
	}
	last := time.Since(t0)
	if st := status(b, c); st.Counter != 10000 {
		b.Fatalf("counter %d", st.Counter)
	}
	st := status(b, c)
	size, err := c.StateSize()
	if err != nil {
		b.Fatal(err)
	}
	lf, err := os.Stat(filepath.Join(dirC, vse.LogFile))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/1e3, "kB-state-at-10k")
	b.ReportMetric(float64(lf.Size())/1e6, "MB-logfile-at-10k")
	b.ReportMetric(float64(last.Microseconds())/1000, "receive-ms-at-10k")
	// A sync three hours later: the ledger acks the log (pruned) and the
	// requests' nonces and accepted-payment records have aged out.
	if err := c.ApplySyncResult(syncResult(p, c.ID(), st.Counter, now+3*3600)); err != nil {
		b.Fatal(err)
	}
	size, _ = c.StateSize()
	b.ReportMetric(float64(size)/1e3, "kB-after-sync")
}

// BenchmarkUnlockDefaultKDF is one PIN guess against a copied state file
// with the parameters wallet init uses (vse.DefaultKDF): Argon2id, then the
// AEAD's check. It reports wall time (ns/op) and the process's CPU time
// per guess (cpu-ms/op), which moves far less with other people's load on
// a shared machine; an attacker pays the CPU time, spread over its cores.
// README ("Security model") states its figures:
//
//	go test -run '^$' -bench Unlock -benchtime 10x -count 3 ./se/vse/
func BenchmarkUnlockDefaultKDF(b *testing.B) { benchUnlock(b, vse.DefaultKDF) }

// BenchmarkUnlockMinKDF is the same at the floor (vse.MinKDF).
func BenchmarkUnlockMinKDF(b *testing.B) { benchUnlock(b, vse.MinKDF) }

func benchUnlock(b *testing.B, k vse.KDF) {
	dir := filepath.Join(b.TempDir(), "se")
	if _, err := vse.Create(dir, setest.PIN, &vse.Options{KDF: k}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		// A wrong guess costs what a right one does; the right PIN keeps
		// the tries counter from locking the benchmark out.
		if _, err := vse.Open(dir, setest.PIN, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
