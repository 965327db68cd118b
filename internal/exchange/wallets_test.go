package exchange_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/wallettest"
)

// world is a real ledger (SQLite), a fixed clock and real wallets
// (virtual SEs) in folders.
type world struct {
	t    testing.TB
	led  *wallettest.Ledger
	now  time.Time
	root string
}

func newWorld(t testing.TB) *world {
	x := &world{t: t, now: time.Now().Truncate(time.Second), root: t.TempDir()}
	x.led = wallettest.New(t, x.clock)
	return x
}

func (x *world) clock() time.Time { return x.now }

// wallet makes an enrolled wallet for name, with load in its purse.
func (x *world) wallet(name string, load uint64) *wallet.Wallet {
	x.t.Helper()
	x.led.Open(name, false, 1_000_000)
	dir := filepath.Join(x.root, name)
	v, err := vse.Create(dir, setest.PIN, setest.Options(nil))
	if err != nil {
		x.t.Fatal(err)
	}
	w, err := wallet.Open(v, dir, &wallet.Options{Ledger: x.led, Clock: x.clock})
	if err != nil {
		x.t.Fatal(err)
	}
	if err := w.Enrol(context.Background(), name); err != nil {
		x.t.Fatal(err)
	}
	if load > 0 {
		if err := w.Reserve(context.Background(), load); err != nil {
			x.t.Fatal(err)
		}
	}
	return w
}

// shop is a payee wallet behind a channel responder and an exchange.Payee
// that takes links from a test dialer.
type shop struct {
	w     *wallet.Wallet
	resp  *channel.Responder
	srv   *exchange.Payee
	links chan link.Conn
	// repeats counts bundles answered with a receipt issued before.
	repeats atomic.Int64
	// dropNext drops the last link dialed right after the next payment is
	// accepted, before its receipt goes out.
	dropNext atomic.Bool
	last     atomic.Pointer[func()] // drops the last link dialed
}

func newShop(t testing.TB, w *wallet.Wallet, configure ...func(*exchange.Payee)) *shop {
	static, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := channel.NewResponder(static, channel.ResponderConfig{MaxPending: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{w: w, resp: r, links: make(chan link.Conn)}
	s.srv = exchange.NewPayee(r, func(b []byte) ([]byte, bool, error) {
		rc, repeat, err := w.AcceptRetry(b)
		if err == nil && s.dropNext.CompareAndSwap(true, false) {
			(*s.last.Load())()
		}
		if repeat {
			s.repeats.Add(1)
		}
		return rc, repeat, err
	})
	for _, f := range configure {
		f(s.srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(ctx, s)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// Accept implements exchange.Listener.
func (s *shop) Accept(ctx context.Context) (link.Conn, error) {
	select {
	case c := <-s.links:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// request makes a request carrying a fresh pairing, and the pairing.
func (s *shop) request(t testing.TB, amount uint64) ([]byte, channel.Pairing) {
	t.Helper()
	p, err := s.resp.Pair()
	if err != nil {
		t.Fatal(err)
	}
	req, err := s.w.RequestWith(se.RequestParams{Amount: amount, Pairing: p.Secret, ChannelKey: p.StaticPublic}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return req, p
}

// dialer returns a Dialer that opens an emulated BLE link to the shop, each
// with its own seeded randomness from cfg.
func (s *shop) dialer(cfg func() link.Config) exchange.Dialer {
	return func(ctx context.Context) (link.Conn, error) {
		a, b := link.Pipe(cfg())
		drop := a.Disconnect
		s.last.Store(&drop)
		select {
		case s.links <- b:
			return a, nil
		case <-ctx.Done():
			a.Close()
			return nil, ctx.Err()
		}
	}
}

func status(t testing.TB, w *wallet.Wallet) wallet.Status {
	t.Helper()
	s, err := w.Status()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func paymentID(t testing.TB, bundle []byte) protocol.Hash {
	t.Helper()
	var b protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &b); err != nil {
		t.Fatal(err)
	}
	return b.Payment.ID()
}
