package recoverytest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/sqlite/replica"
	"github.com/offpay/offpay/wallet"
)

// TestDeadDiskWithReplica: a ledger on SQLite serves wallets over HTTP
// while its database is replicated continuously (ledger serve
// --replicate). Wallets reserve, pay and sync; the replica follows on its
// own. Then the replica is cut off (the moment the disk starts dying)
// and the ledger acknowledges more (the last moments a dead disk loses);
// the disk dies, database and Litestream's local state with it. The
// ledger restarts on what the replica holds: it lacks those last
// moments, every wallet's next sync gives them back, and the one
// administrator deposit of those moments is re-entered by its ref. Every
// account, purse and report figure is then what it was before the disk
// died.
func TestDeadDiskWithReplica(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk") // the disk that dies
	rdir := filepath.Join(dir, "replica")
	if err := os.Mkdir(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(disk, "ledger.db")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var cut atomic.Bool
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	rep, err := replica.Start(ctx, dbPath, rdir, "ledger-under-test", replica.Options{Interval: 50 * time.Millisecond, Logger: quiet, Cut: &cut})
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Second).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{Clock: now})
	handler := func(svc *ledger.Service) http.Handler {
		return server.New(svc, server.Options{AdminToken: "op", Logger: quiet, ClientRateLimit: server.RateLimit{Disabled: true}})
	}
	srv := httptest.NewServer(handler(svc))
	t.Cleanup(srv.Close)
	lc, err := ledgerclient.New(srv.URL, ledgerclient.Options{AdminToken: "op"})
	if err != nil {
		t.Fatal(err)
	}
	open := func(name string, merchant bool, deposit int64) *wallet.Wallet {
		t.Helper()
		if _, err := svc.CreateAccount(ctx, name, merchant); err != nil {
			t.Fatal(err)
		}
		if deposit > 0 {
			if _, err := svc.Deposit(ctx, name, deposit, "init:"+name); err != nil {
				t.Fatal(err)
			}
		}
		v, err := vse.Create(filepath.Join(dir, name), setest.PIN, setest.Options(nil))
		if err != nil {
			t.Fatal(err)
		}
		w, err := wallet.Open(v, filepath.Join(dir, name), &wallet.Options{Ledger: client{lc}, Clock: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Enrol(ctx, name); err != nil {
			t.Fatal(err)
		}
		return w
	}
	alice, bob, shop := open("alice", false, 10000), open("bob", false, 0), open("shop", true, 0)
	wallets := []*wallet.Wallet{alice, bob, shop}
	pay := func(from, to *wallet.Wallet, amount uint64) {
		t.Helper()
		req, err := to.Request(amount, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, err := from.Pay(req, 0)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := to.Accept(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := from.Confirm(rc); err != nil {
			t.Fatal(err)
		}
	}
	syncAll := func() {
		t.Helper()
		for _, w := range wallets {
			if err := w.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	if err := alice.Reserve(ctx, 6000); err != nil {
		t.Fatal(err)
	}
	pay(alice, bob, 2000)
	pay(alice, shop, 500)
	syncAll()
	syncAll()
	if _, err := svc.Deposit(ctx, "bob", 3000, "bank:1"); err != nil {
		t.Fatal(err)
	}
	shipped, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The replica catches up on its own (no explicit sync): what it
	// restores comes to hold all of this.
	for try := 0; ; try++ {
		out := filepath.Join(dir, "probe", strconv.Itoa(try), "ledger.db")
		if _, err := replica.Restore(ctx, rdir, out, time.Time{}); err != nil {
			t.Fatal(err)
		}
		p, err := sqlite.Open(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		r, err := ledger.New(p, keys, ledger.Options{Clock: now}).Report(ctx)
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		if r.Issued == shipped.Issued && r.Settled == shipped.Settled && r.Accounts == shipped.Accounts {
			break
		}
		if try == 400 {
			t.Fatalf("the replica did not catch up: %+v, want %+v", r, shipped)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The last moments before the disk dies: acknowledged by the ledger,
	// never shipped.
	cut.Store(true)
	clock.Add(60)
	if err := alice.Reserve(ctx, 3000); err != nil {
		t.Fatal(err)
	}
	pay(alice, shop, 1000)
	pay(bob, shop, 700)
	pay(alice, bob, 300)
	if err := alice.Redeem(400); err != nil {
		t.Fatal(err)
	}
	syncAll()
	syncAll() // the merchant's sweep reaches its purse
	if _, err := svc.Deposit(ctx, "bob", 1200, "bank:2"); err != nil {
		t.Fatal(err)
	}
	before := figures(t, ctx, svc, alice, bob, shop)
	if before.report.Settled <= shipped.Settled {
		t.Fatalf("nothing settled after the cut: %d, %d", before.report.Settled, shipped.Settled)
	}

	// The disk dies: the database, its WAL and Litestream's local state.
	st.Close()
	dead, cancel := context.WithCancel(ctx)
	cancel()
	rep.Close(dead) // cannot ship any more: the replica is cut off
	if err := os.RemoveAll(disk); err != nil {
		t.Fatal(err)
	}

	// A new disk; the ledger restarts on the replica's state.
	clock.Add(3600)
	newDisk := filepath.Join(dir, "new-disk")
	if _, err := replica.Restore(ctx, rdir, filepath.Join(newDisk, "ledger.db"), time.Time{}); err != nil {
		t.Fatal(err)
	}
	st2, err := sqlite.Open(ctx, filepath.Join(newDisk, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	if err := st2.Check(ctx); err != nil {
		t.Fatal(err)
	}
	svc = ledger.New(st2, keys, ledger.Options{Clock: now})
	srv.Config.Handler = handler(svc)
	got := figures(t, ctx, svc, alice, bob, shop)
	if got.report.Settled != shipped.Settled || got.report.Issued != shipped.Issued || !got.report.ConservationOK {
		t.Fatalf("the replica does not hold what was shipped before the cut: %+v, shipped %+v", got.report, shipped)
	}

	syncAll()
	for _, w := range wallets {
		if !w.Recovered {
			t.Errorf("a wallet did not find the ledger behind it")
		}
	}
	syncAll()
	// What no device holds: the operator re-enters the bank's deposits of
	// the lost moments by their refs (one already held changes nothing).
	for ref, amount := range map[string]int64{"bank:1": 3000, "bank:2": 1200} {
		if _, err := svc.Deposit(ctx, "bob", amount, ref); err != nil {
			t.Fatal(err)
		}
	}
	after := figures(t, ctx, svc, alice, bob, shop)
	if !after.report.ConservationOK || len(after.report.Behind) != 0 {
		t.Fatalf("report after recovery: %+v", after.report)
	}
	same := func(what string, a, b int64) {
		t.Helper()
		if a != b {
			t.Errorf("%s: %d after recovery, %d before the disk died", what, a, b)
		}
	}
	r0, r1 := before.report, after.report
	same("issued", r1.Issued, r0.Issued)
	same("accounts", r1.Accounts, r0.Accounts)
	same("outstanding", r1.Outstanding, r0.Outstanding)
	same("losses", r1.Losses, r0.Losses)
	same("unassessed", r1.Unassessed, r0.Unassessed)
	same("settled", r1.Settled, r0.Settled)
	for k, v := range before.accounts {
		same("account "+k, after.accounts[k], v)
	}
	for k, v := range before.purses {
		same("purse "+k, after.purses[k], v)
	}
}
