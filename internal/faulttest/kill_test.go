package faulttest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
)

// TestKillDuringSyncStorm SIGKILLs `offpay ledger serve` (SQLite) at random
// moments while every device uploads its rounds of payments, and starts
// it again. Devices retry what got no answer, as the wallet does. In the
// end every payment is settled exactly once, every log is acknowledged,
// every device's totals are exact and money is conserved.
func TestKillDuringSyncStorm(t *testing.T) {
	sz := stormSize{devices: 100, rounds: 10, killAfter: 30 * time.Millisecond, killSpread: 250 * time.Millisecond}
	if raceEnabled || testing.Short() {
		sz.devices, sz.rounds = 30, 6
	}
	storm(t, "", sz)
}

// stormSize: how many devices upload how many rounds, and how long the
// ledger lives between kills (killAfter plus up to killSpread, at random).
// A ledger killed faster than it settles anything would only prove a
// livelock.
type stormSize struct {
	devices, rounds       int
	killAfter, killSpread time.Duration
}

func storm(t *testing.T, db string, sz stormSize) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	p := newLedger(t, db)
	admin, err := ledgerclient.New(p.url(), ledgerclient.Options{AdminToken: p.token(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := bench.NewFleet(ctx, bench.ClientAdmin{Client: admin}, "EUR", sz.devices, sz.rounds)
	if err != nil {
		t.Fatal(err)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill schedule seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	stormDone := make(chan struct{})
	killerDone := make(chan struct{})
	// The first kill comes at a random early moment or, on a machine
	// fast enough to finish a short storm before it, once a random share
	// (a tenth to a half) of the uploads are acknowledged: a storm always
	// sees at least one kill mid-way.
	total := int64(sz.devices * sz.rounds)
	firstAt := total/10 + rng.Int64N(total*2/5+1)
	var acked atomic.Int64
	firstKill := make(chan struct{})
	var firstOnce sync.Once
	var restartErr error
	var pgDone chan error
	go func() {
		defer close(killerDone)
		first := firstKill
		n := 0
		// The first kill comes early, so that even a short storm has one.
		wait := time.Duration(20+rng.IntN(180)) * time.Millisecond
		for {
			select {
			case <-stormDone:
				return
			case <-time.After(wait):
			case <-first:
				first = nil // only the first kill waits on it
			}
			n++
			wait = sz.killAfter + time.Duration(rng.Int64N(int64(sz.killSpread)))
			if n == 1 && pgRestart != nil {
				// The first event (always early) also restarts the
				// database, in the background: a cluster restart takes
				// seconds, and the ledger kills go on meanwhile.
				pgDone = make(chan error, 1)
				go func() { pgDone <- pgRestart(t) }()
			}
			p.kill()
			if restartErr = p.start(); restartErr != nil {
				cancel() // the devices stop retrying
				return
			}
		}
	}()

	// Every device runs through its rounds on its own, retrying an upload
	// until the ledger acknowledges it: the next round's entries follow on
	// from the acknowledged counter, as a device's would.
	tr := &http.Transport{MaxIdleConnsPerHost: sz.devices}
	dev, err := ledgerclient.New(p.url(), ledgerclient.Options{HTTPClient: &http.Client{Transport: tr, Timeout: 3 * time.Second},
		Retries: -1}) // syncUntilAcked retries, and counts every call
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var attempts, failures atomic.Int64
	errs := make(chan error, sz.devices)
	for i := range fleet.Devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range fleet.Rounds {
				if err := syncUntilAcked(ctx, dev, fleet.Rounds[r][i], &attempts, &failures); err != nil {
					errs <- err
					return
				}
				if acked.Add(1) == firstAt {
					firstOnce.Do(func() { close(firstKill) })
				}
			}
		}()
	}
	wg.Wait()
	close(stormDone)
	<-killerDone
	close(errs)
	if f := os.Getenv("FAULTTEST_LOG"); f != "" {
		os.WriteFile(f, []byte(p.log.String()), 0o644) // the server's output, for debugging a failure
	}
	if restartErr != nil {
		t.Fatalf("restarting the ledger: %v", restartErr)
	}
	for err := range errs {
		t.Fatalf("%v\nafter %d sync calls (%d without an answer), %d kills; the server said:\n%s", err, attempts.Load(), failures.Load(), p.kills, tail(p.log.String(), 3000))
	}
	t.Logf("%d devices × %d rounds: %d payments, %d sync calls (%d without an answer), ledger killed %d times",
		sz.devices, sz.rounds, fleet.Payments, attempts.Load(), failures.Load(), p.kills)
	if p.kills == 0 {
		t.Fatal("the storm ended before the ledger was ever killed: the test proved nothing")
	}
	if pgRestart != nil {
		if pgDone == nil {
			t.Fatal("the storm ended before PostgreSQL was restarted: the restart was not tested")
		}
		if err := <-pgDone; err != nil {
			t.Fatalf("restarting PostgreSQL: %v", err)
		}
	}
	rep, err := admin.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Check(rep); err != nil {
		t.Fatal(err)
	}
}

// syncUntilAcked uploads u until the ledger answers with its last counter
// acknowledged. A refusal (the ledger answered 4xx) fails: honest devices
// must never be refused, however often the ledger dies.
func syncUntilAcked(ctx context.Context, c *ledgerclient.Client, u *protocol.SyncUpload, attempts, failures *atomic.Int64) error {
	last := u.Entries[len(u.Entries)-1].Counter
	for {
		attempts.Add(1)
		res, err := c.Sync(ctx, u)
		if err == nil {
			if res.Acked < last {
				return errors.New("ledger acknowledged fewer entries than uploaded")
			}
			return nil
		}
		failures.Add(1)
		var api *ledgerclient.APIError
		if errors.As(err, &api) && api.Status < 500 && api.Status != http.StatusTooManyRequests {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
