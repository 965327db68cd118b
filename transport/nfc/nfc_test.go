package nfc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/transport/nfc"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

var ctx = context.Background()

func opts() *vse.Options { return setest.Options(&vse.Options{MaxPINTries: 3}) }

func TestMain(m *testing.M) {
	pcsctest.CardMain(opts()) // the test binary run again as a card process
	code := m.Run()
	pcsctest.Stop()
	os.Exit(code)
}

// env: a real ledger, a shop terminal (its SE in process: the terminal's
// own), and the customer's card in slot 0 of the virtual reader, enrolled
// and loaded by the customer's wallet beforehand.
type env struct {
	t     *testing.T
	led   *wallettest.Ledger
	now   atomic.Uint64
	root  string
	p     *pcsc.Context
	shop  *wallet.Wallet
	payer *wallet.Wallet // the customer's wallet over the card (at home)
	dir   string         // the card's SE folder
	proc  *pcsctest.Card
	term  *nfc.Terminal
}

func newEnv(t *testing.T, dieAfter byte) *env {
	e := &env{t: t, root: t.TempDir()}
	e.p = pcsctest.Daemon(t)
	e.now.Store(uint64(time.Now().Unix()))
	e.led = wallettest.New(t, e.clock)
	shopSE, err := vse.Create(filepath.Join(e.root, "shop-se"), setest.PIN, opts())
	if err != nil {
		t.Fatal(err)
	}
	e.shop = e.open("shop", true, shopSE)
	e.dir = filepath.Join(e.root, "card")
	if _, err := vse.Create(e.dir, setest.PIN, opts()); err != nil {
		t.Fatal(err)
	}
	e.proc = pcsctest.StartCard(t, e.dir, pcsctest.Readers[0], dieAfter)
	e.payer = e.open("alice", false, e.login())
	if err := e.payer.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	e.term = &nfc.Terminal{Payee: e.shop, Now: e.now.Load}
	return e
}

func (e *env) clock() time.Time { return time.Unix(int64(e.now.Load()), 0) }

func (e *env) open(name string, merchant bool, s se.SE) *wallet.Wallet {
	e.t.Helper()
	e.led.Open(name, merchant, 1_000_000)
	if err := os.MkdirAll(filepath.Join(e.root, name), 0o700); err != nil {
		e.t.Fatal(err)
	}
	w, err := wallet.Open(s, filepath.Join(e.root, name), &wallet.Options{Ledger: e.led, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Enrol(ctx, name); err != nil {
		e.t.Fatal(err)
	}
	return w
}

// login connects to the card in slot 0 (the PIN typed at the terminal).
func (e *env) login() *card.Card {
	e.t.Helper()
	return e.loginVia(pcsctest.Connect(e.t, e.p, pcsctest.Readers[0].Name))
}

func (e *env) loginVia(t card.Transmitter) *card.Card {
	e.t.Helper()
	var c *card.Card
	var err error
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err = card.Open(t, setest.PIN); err == nil {
			return c
		}
		if time.Now().After(end) {
			e.t.Fatalf("open the card: %v\n%s", err, pcsctest.Log())
		}
	}
}

// tapCard is a fresh tap: the terminal's own connection to the card in
// the reader, counted.
func (e *env) tapCard() (*card.Card, *nfc.Counter) {
	k := pcsctest.Connect(e.t, e.p, pcsctest.Readers[0].Name)
	n := &nfc.Counter{T: k}
	return e.loginVia(n), n
}

func (e *env) cardStatus(c *card.Card) se.Status {
	e.t.Helper()
	st, err := c.Status(e.now.Load())
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) settle(ws ...*wallet.Wallet) {
	e.t.Helper()
	for range 2 {
		for _, w := range ws {
			if err := w.Sync(ctx); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	e.led.Check()
}

// TestTapPaysAndTwoTapsInARow: a tap is a payment and its receipt; a
// second tap right after is a second payment; the card's purse, the
// terminal's and the ledger agree after sync.
func TestTapPaysAndTwoTapsInARow(t *testing.T) {
	e := newEnv(t, 0)
	c, n := e.tapCard()
	r1, err := e.term.Tap(c, 1200)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.term.Tap(c, 300)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Torn || r2.Torn || r1.Repeat || r2.Repeat || r1.Payment == r2.Payment {
		t.Fatalf("taps: %+v %+v", r1, r2)
	}
	if s := e.cardStatus(c); s.Balance != 5000-1500 || s.PendingCount != 0 {
		t.Fatalf("card: balance %d, pending %d", s.Balance, s.PendingCount)
	}
	if st, _ := e.shop.Status(); st.Available != 1500 {
		t.Fatalf("shop holds %d", st.Available)
	}
	t.Logf("two taps: %d APDUs, %d bytes sent, %d received", n.APDUs.Load(), n.Sent.Load(), n.Received.Load())
	e.settle(e.shop, e.payer)
	if got := e.led.Balance("shop"); got != 1_000_000+1500 {
		t.Fatalf("shop's account %d", got)
	}
}

// TestTornTapRecovers: the card is taken away after the terminal took its
// payment and before CONFIRM RECEIPT. The merchant is paid; the card holds
// the payment pending. At the next tap the terminal gives it its receipt
// first, then takes the next payment; after sync the ledger balances, and
// the payment was recorded once.
func TestTornTapRecovers(t *testing.T) {
	e := newEnv(t, 0)
	c, _ := e.tapCard()
	e.term.BeforeConfirm = func() { e.proc.Remove() }
	r, err := e.term.Tap(c, 1200)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Torn {
		t.Fatalf("tap with the card taken away: %+v", r)
	}
	e.term.BeforeConfirm = nil
	if st, _ := e.shop.Status(); st.Available != 1200 {
		t.Fatalf("shop holds %d after the torn tap", st.Available)
	}
	// The card back in the reader: it still holds the payment pending.
	e.proc = pcsctest.StartCard(t, e.dir, pcsctest.Readers[0], 0)
	c, _ = e.tapCard()
	if s := e.cardStatus(c); s.Balance != 3800 || s.PendingCount != 1 || s.PendingValue != 1200 {
		t.Fatalf("card after the torn tap: balance %d, pending %d of %d", s.Balance, s.PendingCount, s.PendingValue)
	}
	r2, err := e.term.Tap(c, 500)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Delivered != 1 || r2.Torn {
		t.Fatalf("next tap: %+v", r2)
	}
	if s := e.cardStatus(c); s.Balance != 3300 || s.PendingCount != 0 {
		t.Fatalf("card after the next tap: balance %d, pending %d", s.Balance, s.PendingCount)
	}
	e.payer = reopen(t, e, c)
	e.settle(e.shop, e.payer)
	if got := e.led.Balance("shop"); got != 1_000_000+1700 {
		t.Fatalf("shop's account %d", got)
	}
}

// TestTornPayTappedAgain: the card is taken away after it signed the
// payment and before its answer left (PAY executed, no answer). The
// terminal has nothing; it keeps the request, and the next tap gets the
// same payment from the card (repeat), never a second debit.
func TestTornPayTappedAgain(t *testing.T) {
	e := newEnv(t, apdu.InsPay)
	c, _ := e.tapCard()
	if _, err := e.term.Tap(c, 1200); !errors.Is(err, nfc.ErrNoPayment) {
		t.Fatalf("tap torn during PAY: %v", err)
	}
	e.proc.Remove()
	e.proc = pcsctest.StartCard(t, e.dir, pcsctest.Readers[0], 0)
	c, _ = e.tapCard()
	r, err := e.term.Tap(c, 1200)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Repeat || r.Torn {
		t.Fatalf("second tap: %+v", r)
	}
	if s := e.cardStatus(c); s.Balance != 3800 || s.PendingCount != 0 {
		t.Fatalf("card: balance %d, pending %d", s.Balance, s.PendingCount)
	}
	e.payer = reopen(t, e, c)
	e.settle(e.shop, e.payer)
	if got := e.led.Balance("alice"); got != 1_000_000-5000 {
		t.Fatalf("alice's account %d", got)
	}
}

// reopen is the customer's wallet over the card again (its connection was
// lost with the card).
func reopen(t *testing.T, e *env, c *card.Card) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Open(c, filepath.Join(e.root, "alice"), &wallet.Options{Ledger: e.led, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	return w
}
