package wallet_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

var ctx = context.Background()

// tb is what helpers need from testing.T and rapid.T alike.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// env is a fake ledger, a shared settable clock and wallets in folders.
type env struct {
	t    tb
	pki  *prototest.PKI
	led  *wallettest.Ledger
	now  atomic.Uint64
	root string
	hook atomicfile.Hook
	keep int // wallet.Options.KeepRecords
}

func newEnv(t testing.TB) *env {
	e := &env{t: t, pki: prototest.NewPKI("wallet"), root: t.TempDir()}
	e.now.Store(prototest.Epoch)
	e.led = wallettest.New(e.pki, e.now.Load)
	return e
}

func (e *env) clock() time.Time { return time.Unix(int64(e.now.Load()), 0) }

func (e *env) dir(name string) string { return filepath.Join(e.root, name) }

// hooked routes crash hooks through e.hook so a test can swap it.
func (e *env) hooked(name string, s atomicfile.Stage) bool {
	return e.hook != nil && e.hook(name, s)
}

// wallet creates an SE and wallet for name, enrolled, with account money.
func (e *env) wallet(name string) *wallet.Wallet {
	e.t.Helper()
	e.led.Accounts[name] = 1_000_000
	v, err := vse.Create(e.dir(name), setest.PIN, setest.Options(&vse.Options{Hook: e.hooked}))
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := wallet.Open(v, e.dir(name), &wallet.Options{Ledger: e.led, Clock: e.clock, Hook: e.hooked, KeepRecords: e.keep})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Enrol(ctx, name); err != nil {
		e.t.Fatal(err)
	}
	return w
}

// reopen opens name's SE and wallet from disk, as a restarted process.
func (e *env) reopen(name string) *wallet.Wallet {
	e.t.Helper()
	v, err := vse.Open(e.dir(name), setest.PIN, setest.Options(&vse.Options{Hook: e.hooked}))
	if err != nil {
		e.t.Fatal(err)
	}
	w, err := wallet.Open(v, e.dir(name), &wallet.Options{Ledger: e.led, Clock: e.clock, Hook: e.hooked, KeepRecords: e.keep})
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

func st(t tb, w *wallet.Wallet) wallet.Status {
	t.Helper()
	s, err := w.Status()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// transfer runs request, pay, accept, confirm.
func transfer(t tb, from, to *wallet.Wallet, amount uint64) {
	t.Helper()
	req, err := to.Request(amount, "shop", time.Minute)
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
