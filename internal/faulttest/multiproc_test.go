package faulttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
)

// TestSeveralLedgerProcesses runs three `offpay ledger serve` processes on
// one PostgreSQL database, as an operator scales the ledger out: the
// first started with a policy file, the other two with copies of its data
// folder (keys, token, ledger identity; not the root key) and no policy.
// Devices enrol through one process and upload each round to another,
// so that a payment's payer and payee upload it to different processes
// at the same moment, and every tenth upload goes to two processes at
// once. Every payment settles exactly once, every answer acknowledges the
// whole upload, money is conserved, and a device enrolled through a
// process that was given no policy is certified under the stored one.
func TestSeveralLedgerProcesses(t *testing.T) {
	dsn := os.Getenv("OFFPAY_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("OFFPAY_TEST_POSTGRES not set: several ledger processes need PostgreSQL")
	}
	db := freshDatabase(t, dsn)
	devices, rounds := 60, 4
	if raceEnabled || testing.Short() {
		devices, rounds = 30, 3
	}
	policy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(`{"person": {"per_payment_minor": 777}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	first := newLedgerWith(t, db, []string{"--policy", policy}, nil)
	procs := []*ledgerProc{first}
	for range 2 {
		procs = append(procs, serveData(t, copyData(t, first.data), db, nil, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clients := make([]*ledgerclient.Client, len(procs))
	for i, p := range procs {
		c, err := ledgerclient.New(p.url(), ledgerclient.Options{AdminToken: p.token(), Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	// Enrolled through the last process, which was given no policy.
	fleet, err := bench.NewFleet(ctx, bench.ClientAdmin{Client: clients[2]}, "EUR", devices, rounds)
	if err != nil {
		t.Fatal(err)
	}
	if got := fleet.Devices[0].Cert.Limits.PerPayment; got != 777 {
		t.Fatalf("a device enrolled through a process given no policy is certified for %d a payment, want the stored 777", got)
	}
	start := time.Now()
	for r, ups := range fleet.Rounds {
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(ups))
		send := func(c *ledgerclient.Client, i int, up *protocol.SyncUpload) {
			defer wg.Done()
			res, err := c.Sync(ctx, up)
			if err == nil && res.Acked != up.Entries[len(up.Entries)-1].Counter {
				err = fmt.Errorf("acknowledged %d of %d", res.Acked, up.Entries[len(up.Entries)-1].Counter)
			}
			if err != nil {
				errs <- fmt.Errorf("round %d, device %d: %w", r, i, err)
			}
		}
		for i, up := range ups {
			wg.Add(1)
			go send(clients[(i+r)%len(clients)], i, up)
			if i%10 == 0 {
				wg.Add(1)
				go send(clients[(i+r+1)%len(clients)], i, up)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	t.Logf("%d devices, %d rounds through %d processes: %d payments in %v", devices, rounds, len(procs), fleet.Payments, time.Since(start).Round(time.Millisecond))
	for i, c := range clients {
		rep, err := c.Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := fleet.Check(rep); err != nil {
			t.Fatalf("process %d's report: %v", i, err)
		}
	}
}

// copyData copies a ledger's data folder for another process on the same
// database: everything but the root key (kept offline), the serve lock and
// the address file, which are each process's own.
func copyData(t *testing.T, from string) string {
	to := t.TempDir()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		switch rel {
		case ".":
			return nil
		case "root.key", "serve.lock", "ledger.url":
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}
