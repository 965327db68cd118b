package wallet_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

var ctx = context.Background()

// startBalance is what each account holds when its wallet is made.
const startBalance = 1_000_000

// tb is what helpers need from testing.T and rapid.T alike.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// env is a real ledger (SQLite), a shared settable clock and wallets in
// folders.
type env struct {
	t   tb
	led *wallettest.Ledger
	now atomic.Uint64
	// start is the clock's first time: now (the ledger's keys are
	// certified from the real time they are made).
	start uint64
	root  string
	hook  atomicfile.Hook
	keep  int // wallet.Options.KeepRecords
}

func newEnv(t testing.TB) *env {
	e := &env{t: t, root: t.TempDir(), start: uint64(time.Now().Unix())}
	e.now.Store(e.start)
	e.led = wallettest.New(t, e.clock)
	return e
}

// limits are the offline limits of the people's devices the ledger
// certifies.
func (e *env) limits() protocol.Limits { return e.led.Policy().Person }

func (e *env) clock() time.Time { return time.Unix(int64(e.now.Load()), 0) }

func (e *env) dir(name string) string { return filepath.Join(e.root, name) }

// hooked routes crash hooks through e.hook so a test can swap it.
func (e *env) hooked(name string, s atomicfile.Stage) bool {
	return e.hook != nil && e.hook(name, s)
}

// wallet creates an SE and wallet for name, enrolled, with 10,000.00 in
// its account.
func (e *env) wallet(name string) *wallet.Wallet {
	e.t.Helper()
	return e.enrolled(name, false)
}

// merchant is wallet for a merchant account: a receive-only device.
func (e *env) merchant(name string) *wallet.Wallet {
	e.t.Helper()
	return e.enrolled(name, true)
}

func (e *env) enrolled(name string, merchant bool) *wallet.Wallet {
	e.t.Helper()
	e.led.Open(name, merchant, startBalance)
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

// realLedger adapts a ledger.Service a test built itself (its own keys,
// store or clock) to wallet.Ledger; wallettest.New builds the usual one.
type realLedger struct{ *ledger.Service }

func (l realLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	en, err := l.Service.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: en.Device, Issuer: en.Issuer, Root: en.Root, RevList: en.RevList}, nil
}
