package card_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

var ctx = context.Background()

const startBalance = 1_000_000

// direct hands APDUs to an applet in this process: the APDU layer without
// a reader.
type direct struct{ a *applet.Applet }

func (d direct) Transmit(cmd []byte) ([]byte, error) { return d.a.Process(cmd), nil }

// env is a real ledger on a settable clock and wallets in folders.
type env struct {
	t    *testing.T
	led  *wallettest.Ledger
	now  atomic.Uint64
	root string
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, root: t.TempDir()}
	e.now.Store(uint64(time.Now().Unix()))
	e.led = wallettest.New(t, e.clock)
	return e
}

func (e *env) clock() time.Time { return time.Unix(int64(e.now.Load()), 0) }

// seDir makes a new virtual SE for name (the card's folder) and returns it.
func (e *env) seDir(name string) string {
	e.t.Helper()
	dir := filepath.Join(e.root, name, "card")
	if _, err := vse.Create(dir, setest.PIN, opts()); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

func opts() *vse.Options { return setest.Options(&vse.Options{MaxPINTries: 3}) }

// inProcess is a card whose applet runs in this process.
func (e *env) inProcess(name string) (*card.Card, *applet.Applet) {
	e.t.Helper()
	a := applet.New(e.seDir(name), opts())
	c, err := card.Open(direct{a}, setest.PIN)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, a
}

// wallet opens and enrols name's wallet over s, with an account holding
// startBalance.
func (e *env) wallet(name string, s se.SE) *wallet.Wallet {
	e.t.Helper()
	return e.account(name, false, s)
}

// account is wallet for a merchant's (receive-only) device if merchant.
func (e *env) account(name string, merchant bool, s se.SE) *wallet.Wallet {
	e.t.Helper()
	e.led.Open(name, merchant, startBalance)
	w, err := wallet.Open(s, filepath.Join(e.root, name), &wallet.Options{Ledger: e.led, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Enrol(ctx, name); err != nil {
		e.t.Fatal(err)
	}
	return w
}

// transfer has a pay b amount offline: request, pay, accept, confirm.
func transfer(t *testing.T, a, b *wallet.Wallet, amount uint64) {
	t.Helper()
	req, err := b.Request(amount, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := a.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := b.Accept(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Confirm(rcpt); err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, s se.SE, now uint64) se.Status {
	t.Helper()
	st, err := s.Status(now)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
