package recoverytest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/postgres/pgtest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/wallet"
)

// store is a ledger store that backs itself up and restores in place.
type store interface {
	ledger.Store
	Backup(ctx context.Context, out string) error
	Restore(ctx context.Context, from string) error
}

// client adapts ledgerclient to wallet.Ledger (and wallet.Acknowledger).
type client struct{ c *ledgerclient.Client }

func (l client) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	e, err := l.c.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}
func (l client) Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	return l.c.Reserve(ctx, r)
}
func (l client) Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error) {
	return l.c.Sync(ctx, u)
}
func (l client) Acknowledge(ctx context.Context, res *protocol.SyncResult) (bool, error) {
	return l.c.Acknowledge(ctx, res)
}
func (l client) Trust(ctx context.Context) (root, issuer *protocol.Certificate, err error) {
	return l.c.Trust(ctx)
}
func (l client) RevocationList(ctx context.Context) (*protocol.RevocationList, error) {
	return l.c.RevocationList(ctx)
}
func (l client) PayOnline(ctx context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error) {
	return l.c.PayOnline(ctx, p)
}
func (l client) OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error) {
	return l.c.OnlineReceipt(ctx, payee, nonce)
}
func (l client) PresentOnlineReceipt(ctx context.Context, rc *protocol.OnlineReceipt) (bool, error) {
	return l.c.PresentOnlineReceipt(ctx, rc)
}

func TestRestoreSQLite(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	restoreScenario(t, s)
}

func TestRestorePostgres(t *testing.T) {
	restoreScenario(t, pgtest.Open(t))
}

// restoreScenario: wallets pay, reserve and redeem; the ledger is backed
// up while it serves; more of each happens; the ledger goes back to the
// backup. Every wallet's next sync gives it back what it lost, and every
// account, purse and report figure is what it was before the failure. A
// reservation made after the restore (whose load number the ledger
// reissues) reaches the purse once.
func restoreScenario(t *testing.T, st store) {
	ctx := context.Background()
	dir := t.TempDir()
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Second).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	keys, err := ledger.Init(filepath.Join(dir, "keys"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(st, keys, ledger.Options{Clock: now})
	handler := func(svc *ledger.Service) http.Handler {
		return server.New(svc, server.Options{AdminToken: "op", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			ClientRateLimit: server.RateLimit{Disabled: true}})
	}
	srv := httptest.NewServer(handler(svc))
	t.Cleanup(srv.Close)
	// restart is a new ledger process on the restored store: a new
	// Service and server (nothing cached from before the failure).
	restart := func() {
		svc = ledger.New(st, keys, ledger.Options{Clock: now})
		srv.Config.Handler = handler(svc)
	}
	lc, err := ledgerclient.New(srv.URL, ledgerclient.Options{AdminToken: "op"})
	if err != nil {
		t.Fatal(err)
	}
	open := func(name string, merchant bool, deposit int64) *wallet.Wallet {
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
		for _, w := range []*wallet.Wallet{alice, bob, shop} {
			if err := w.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := alice.Reserve(ctx, 6000); err != nil {
		t.Fatal(err)
	}
	pay(alice, bob, 2000)
	syncAll()
	clock.Add(60)
	backup := filepath.Join(dir, "ledger.backup")
	if err := st.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	// What the backup does not hold.
	clock.Add(60)
	if err := alice.Reserve(ctx, 3000); err != nil {
		t.Fatal(err)
	}
	pay(alice, shop, 1000)
	pay(bob, shop, 700)
	if err := alice.Redeem(500); err != nil {
		t.Fatal(err)
	}
	// Two online payments: account to account, in no device's log. The
	// shop looks the first up (its history keeps the receipt too); only
	// the payer holds the second's.
	online := func(from, to *wallet.Wallet, amount uint64, lookup bool) {
		t.Helper()
		req, err := to.Request(amount, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := from.PayOnline(ctx, req, 0, nil); err != nil {
			t.Fatal(err)
		}
		if lookup {
			if _, err := to.OnlineReceipt(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
	}
	online(alice, shop, 400, true)
	online(alice, bob, 50, false)
	syncAll()
	syncAll() // the merchant's sweep reaches its purse
	before := figures(t, ctx, svc, alice, bob, shop)

	// The ledger's machine fails; the backup comes back, and the ledger
	// restarts on it.
	clock.Add(3600)
	if err := st.Restore(ctx, backup); err != nil {
		t.Fatal(err)
	}
	restart()
	if got := figures(t, ctx, svc, alice, bob, shop); got.report.Issued != before.report.Issued || got.accounts["alice"] == before.accounts["alice"] {
		t.Fatalf("the restore did not go back: %+v", got)
	}
	syncAll()
	for _, w := range []*wallet.Wallet{alice, bob, shop} {
		if !w.Recovered {
			t.Errorf("a wallet did not find the ledger behind it")
		}
		if w.OnlineReentry != nil {
			t.Errorf("an online receipt was refused: %v", w.OnlineReentry)
		}
	}
	// Each online payment came back once, from whichever wallet synced
	// first with its receipt: alice's or the shop's (the first), alice's
	// (the second: bob never looked it up).
	if n := alice.OnlineReentered + bob.OnlineReentered + shop.OnlineReentered; n != 2 {
		t.Errorf("%d online payments re-entered, want 2", n)
	}
	syncAll() // the merchant's sweep again
	after := figures(t, ctx, svc, alice, bob, shop)
	if !after.report.ConservationOK || len(after.report.Behind) != 0 {
		t.Fatalf("report after recovery: %+v", after.report)
	}
	same := func(what string, a, b int64) {
		t.Helper()
		if a != b {
			t.Errorf("%s: %d after recovery, %d before the failure", what, a, b)
		}
	}
	r0, r1 := before.report, after.report
	same("issued", r1.Issued, r0.Issued)
	same("accounts", r1.Accounts, r0.Accounts)
	same("outstanding", r1.Outstanding, r0.Outstanding)
	same("losses", r1.Losses, r0.Losses)
	same("recovered", r1.Recovered, r0.Recovered)
	same("unassessed", r1.Unassessed, r0.Unassessed)
	same("settled", r1.Settled, r0.Settled)
	for k, v := range before.accounts {
		same("account "+k, after.accounts[k], v)
	}
	for k, v := range before.purses {
		same("purse "+k, after.purses[k], v)
	}

	// Again to the backup; this time alice reserves before her wallet
	// syncs. The ledger reissues the number of the load it lost; her SE
	// refuses it, the wallet syncs (the ledger gets the lost load back and
	// renumbers the new one) and asks again: the purse grows once.
	if err := st.Restore(ctx, backup); err != nil {
		t.Fatal(err)
	}
	restart()
	if err := alice.Reserve(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	syncAll()
	syncAll()
	final := figures(t, ctx, svc, alice, bob, shop)
	same("alice's purse after a reservation across the restore", final.purses["alice"], before.purses["alice"]+1000)
	same("alice's account after a reservation across the restore", final.accounts["alice"], before.accounts["alice"]-1000)
	if !final.report.ConservationOK {
		t.Fatalf("final report %+v", final.report)
	}
}

type snapshot struct {
	report   ledger.Report
	accounts map[string]int64
	purses   map[string]int64
}

func figures(t *testing.T, ctx context.Context, svc *ledger.Service, ws ...*wallet.Wallet) snapshot {
	t.Helper()
	r, err := svc.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{report: *r, accounts: map[string]int64{}, purses: map[string]int64{}}
	for i, name := range []string{"alice", "bob", "shop"} {
		a, err := svc.Account(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		s.accounts[name] = a.Balance
		st, err := ws[i].Status()
		if err != nil {
			t.Fatal(err)
		}
		s.purses[name] = int64(st.Available)
	}
	return s
}
