package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/postgres"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/sqlite"
)

// Settlement's shape: each payer device makes PerPayer payments to one of
// Shops merchant devices, gets each receipt back (a confirm entry after
// each pay entry: what claims the payment for its payee, SPEC.md section
// 11) and uploads them in one SyncUpload, as a busy device does between
// syncs; at most BatchPayments are signed ahead of
// one timed round, which bounds memory at 10^6 payments.
const (
	// SignaturesPerPayment is what the ledger verifies for each payment of
	// this shape: the payee's receipt inside the confirm entry. The pay
	// and confirm entries are authenticated by the upload's signature, one
	// per 1000 payments here (SPEC.md section 11; a payee's upload needs
	// one too: the payer's signature of the payment in its receive entry).
	SignaturesPerPayment = 1
	PerPayer             = 1000
	Shops                = 4
	BatchPayments        = 100_000
)

// VerifyRate measures crypto/ed25519 verifications, one by one, per
// second on all cores (GOMAXPROCS goroutines) for d: the physical limit
// that settlement is compared with.
func VerifyRate(d time.Duration) float64 {
	rate, _ := verifyMeasure(d)
	return rate
}

// verifyMeasure returns VerifyRate and the CPU time one verification
// took.
func verifyMeasure(d time.Duration) (rate float64, cpu time.Duration) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 200)
	sig := ed25519.Sign(priv, msg)
	return onAllCores(d, func() int {
		for range 32 {
			if !ed25519.Verify(pub, msg, sig) {
				panic("bench: ed25519 verification failed")
			}
		}
		return 32
	})
}

// onAllCores runs step, which returns how many verifications it made, over
// and over on GOMAXPROCS goroutines for d, and returns the verifications
// a second and the process's CPU time one took.
func onAllCores(d time.Duration, step func() int) (rate float64, cpu time.Duration) {
	cpu0 := cpuTime()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				n.Add(int64(step()))
			}
		}()
	}
	wg.Wait()
	used := cpuTime() - cpu0
	return float64(n.Load()) / time.Since(start).Seconds(), used / time.Duration(max(n.Load(), 1))
}

// Store is a ledger store that can be closed.
type Store interface {
	ledger.Store
	Close() error
}

// OpenSQLite opens a fresh SQLite ledger in dir.
func OpenSQLite(ctx context.Context, dir string) (Store, func(), error) {
	return openSQLite(ctx, dir, sqlite.Options{})
}

// openSQLite is OpenSQLite with options (synchronous=NORMAL, to show what
// durable commits cost beside it).
func openSQLite(ctx context.Context, dir string, o sqlite.Options) (Store, func(), error) {
	s, err := sqlite.OpenWith(ctx, filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())), o)
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// OpenPostgres opens a ledger in a new schema of its own, dropped by the
// returned cleanup, so that it disturbs nobody else's data.
func OpenPostgres(ctx context.Context, dsn string) (Store, func(), error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "offpay_bench_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("PostgreSQL unreachable: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close(ctx)
		return nil, nil, err
	}
	s, err := postgres.Open(ctx, dsn, schema)
	drop := func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	}
	if err != nil {
		drop()
		return nil, nil, err
	}
	return s, func() { s.Close(); drop() }, nil
}

// SettleResult is one settlement run.
type SettleResult struct {
	Payments int
	Uploads  int
	Elapsed  time.Duration // in Service.Sync calls only
	CPU      time.Duration // process CPU time during those calls
}

// CPUPerPayment is the CPU time settlement used per payment.
func (r SettleResult) CPUPerPayment() time.Duration {
	return r.CPU / time.Duration(max(r.Payments, 1))
}

// Utilisation is the share of all cores that settlement kept busy.
func (r SettleResult) Utilisation() float64 {
	return r.CPU.Seconds() / (r.Elapsed.Seconds() * float64(runtime.GOMAXPROCS(0)))
}

// Rate is settled payments per second.
func (r SettleResult) Rate() float64 { return float64(r.Payments) / r.Elapsed.Seconds() }

// Settle settles n payments (a multiple of PerPayer, or fewer than
// PerPayer) through svc and times only the Sync calls, made by
// 2×GOMAXPROCS uploaders at once. Devices, accounts and signatures are
// made beforehand, untimed. It checks the ledger's report afterwards:
// every payment settled once, money conserved. progress receives the
// payments settled so far.
func Settle(ctx context.Context, svc *ledger.Service, n int, progress func(done int)) (SettleResult, error) {
	return SettlePer(ctx, svc, n, PerPayer, progress)
}

// SettlePer is Settle with per payments in each upload (at most
// PerPayer): the ledger signs one SyncResult per upload, so small uploads
// weigh the issuer's signature most.
func SettlePer(ctx context.Context, svc *ledger.Service, n, per int, progress func(done int)) (SettleResult, error) {
	a := ServiceAdmin{svc}
	cur := svc.Currency()
	res := SettleResult{Payments: n}
	var shops []*Device
	for i := range Shops {
		d, _, err := NewEnrolled(ctx, a, cur, fmt.Sprintf("shop%d", i), true, 0, 0)
		if err != nil {
			return res, err
		}
		shops = append(shops, d)
	}
	per = max(1, min(n, per, PerPayer))
	payer := 0
	counters := make([]atomic.Uint64, len(shops)) // each shop's receive entries
	for done := 0; done < n; {
		batch := min(BatchPayments, n-done)
		ups, err := payerUploads(ctx, a, cur, shops, counters, &payer, batch, per)
		if err != nil {
			return res, err
		}
		cpu0 := cpuTime()
		elapsed, err := syncAll(ctx, svc, ups)
		if err != nil {
			return res, err
		}
		res.CPU += cpuTime() - cpu0
		res.Elapsed += elapsed
		res.Uploads += len(ups)
		done += batch
		if progress != nil {
			progress(done)
		}
	}
	r, err := svc.Report(ctx)
	if err != nil {
		return res, err
	}
	if !r.ConservationOK || r.Settled != int64(n) {
		return res, fmt.Errorf("after settling %d payments: %d settled, conservation %v", n, r.Settled, r.ConservationOK)
	}
	if len(r.DoubleSpends) > 0 || len(r.RevokedDevices) > 0 {
		// An honest run has none: proofs would mean the benchmark timed
		// fraud handling, not settlement.
		return res, fmt.Errorf("after settling %d payments: %d double spends, %d devices revoked", n, len(r.DoubleSpends), len(r.RevokedDevices))
	}
	return res, nil
}

// payerUploads enrols payers for count payments, per payer device, and
// signs their logs in parallel. Each receipt names the next counter of
// its shop's log (counters[i] for shops[i]), as a shop's SE does: two
// receipts for one counter would be the shop equivocating.
func payerUploads(ctx context.Context, a Admin, cur string, shops []*Device, counters []atomic.Uint64, next *int, count, per int) ([]*protocol.SyncUpload, error) {
	payers := (count + per - 1) / per
	devs := make([]*Device, payers)
	heads := make([][]protocol.LogEntry, payers)
	for i := range payers {
		name := fmt.Sprintf("p%d", *next)
		*next++
		d, head, err := NewEnrolled(ctx, a, cur, name, false, 10000, 5000)
		if err != nil {
			return nil, err
		}
		devs[i], heads[i] = d, head
	}
	ups := make([]*protocol.SyncUpload, payers)
	parallel(payers, func(i int) {
		d := devs[i]
		k := min(per, count-i*per)
		entries := append(make([]protocol.LogEntry, 0, 2*k+1), heads[i]...)
		for j := range k {
			s := j % len(shops)
			e, b := d.Pay(shops[s].ID, 1+uint64(j%4))
			entries = append(entries, e, d.Confirm(shops[s].Receipt(b, counters[s].Add(1))))
		}
		ups[i] = d.Upload(entries)
	})
	return ups, nil
}

// syncAll uploads ups from 2×GOMAXPROCS goroutines and returns the wall
// time the uploads took.
func syncAll(ctx context.Context, svc *ledger.Service, ups []*protocol.SyncUpload) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	start := time.Now()
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ups) {
					return
				}
				if _, err := svc.Sync(ctx, ups[i]); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// BatchVerifyRate measures Ed25519 verifications per second on all cores
// in batches of 1,024 (protocol.Batch, as the ledger verifies), and the
// CPU time one took: the cheapest the crypto of settlement can be, beside
// VerifyRate's one by one.
func BatchVerifyRate(d time.Duration) (rate float64, cpu time.Duration) {
	const size = 1024
	keys, msgs, sigs := make([]ed25519.PublicKey, size), make([][]byte, size), make([][]byte, size)
	for i := range size {
		pub, priv, _ := ed25519.GenerateKey(nil)
		msgs[i] = make([]byte, 200)
		msgs[i][0], msgs[i][1] = byte(i), byte(i>>8)
		keys[i], sigs[i] = pub, ed25519.Sign(priv, msgs[i])
	}
	return onAllCores(d, func() int {
		b := protocol.NewBatch(size)
		for i := range size {
			b.Add(protocol.AlgEd25519, keys[i], msgs[i], sigs[i])
		}
		for _, err := range b.Verify() {
			if err != nil {
				panic("bench: ed25519 batch verification failed")
			}
		}
		return size
	})
}
