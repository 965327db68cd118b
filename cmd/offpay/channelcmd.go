package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
)

const (
	channelKeyFile = "channel.key"
	defaultChannel = "127.0.0.1:8421"
)

// channelKey loads (or makes, once) the wallet's static X25519 channel key.
func channelKey(dir string) (*ecdh.PrivateKey, error) {
	p := filepath.Join(dir, channelKeyFile)
	if b, err := os.ReadFile(p); err == nil {
		return ecdh.X25519().NewPrivateKey(b)
	}
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return k, os.WriteFile(p, k.Bytes(), 0o600)
}

// payee is the receiving end of the encrypted channel.
type payee struct {
	w      *wallet.Wallet
	static *ecdh.PrivateKey
	resp   *channel.Responder
}

func newPayee(w *wallet.Wallet, static *ecdh.PrivateKey) (*payee, error) {
	resp, err := channel.NewResponder(static, channel.ResponderConfig{})
	if err != nil {
		return nil, err
	}
	return &payee{w: w, static: static, resp: resp}, nil
}

// request makes a payment request that carries the channel key and a fresh
// one-time pairing secret: the payer's key to open the channel.
func (p *payee) request(amount uint64, name string, ttl time.Duration) ([]byte, error) {
	pair, err := p.resp.Pair()
	if err != nil {
		return nil, err
	}
	return p.w.RequestWith(se.RequestParams{Amount: amount, Name: name,
		ChannelKey: p.static.PublicKey().Bytes(), Pairing: pair.Secret}, ttl)
}

// serve answers payments on ln with handle, each link in its own session,
// until ctx ends; run it in a goroutine. A payer whose link dropped resumes
// its session and gets the receipt already issued (wallet.AcceptRetry).
// wait, called once ctx has ended (or ln was closed), waits for the
// sessions to end.
func (p *payee) serve(ctx context.Context, ln *link.Listener, handle exchange.Handler) (srv *exchange.Payee, wait func()) {
	srv = exchange.NewPayee(p.resp, handle)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = srv.Serve(ctx, tcpListener{ln})
	}()
	return srv, func() { <-stopped }
}

// serveOne answers payments on ln until one was accepted and its receipt
// acknowledged (or waited on for exchange.DefaultLinger, for a payer that
// resumes after a drop), then stops listening.
func (p *payee) serveOne(ctx context.Context, ln *link.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	srv, wait := p.serve(ctx, ln, p.w.AcceptRetry)
	defer wait()
	defer cancel()
	if err := srv.WaitPaid(ctx, 1); err != nil {
		return err
	}
	return srv.Drain(ctx)
}

// tcpListener is a link.Listener as an exchange.Listener.
type tcpListener struct{ ln *link.Listener }

func (l tcpListener) Accept(ctx context.Context) (link.Conn, error) { return l.ln.Accept(ctx) }

// payAttempts is how many times the payer sends a payment over the
// channel: the first time, and retries on resumed sessions after drops.
const payAttempts = 3

// payOverChannel pays the request (which must carry a channel key) over a
// TCP link to addr. After a drop it reconnects with the session's
// resumption pairing and resends the same payment: the payee answers it
// with the receipt it already issued, so this never pays twice.
func payOverChannel(ctx context.Context, w *wallet.Wallet, reqWire []byte, addr string, amount uint64) ([]byte, error) {
	var req protocol.PaymentRequest
	if err := protocol.OpenAs(reqWire, &req); err != nil {
		return nil, err
	}
	if len(req.ChannelKey) == 0 {
		return nil, usageErrorf("this request has no channel key: pay it by QR (offpay wallet pay)")
	}
	// Open the channel first: a payee that cannot be reached costs the
	// payer nothing. Only then does the SE debit and sign.
	pairing := channel.Pairing{StaticPublic: req.ChannelKey, Secret: req.Pairing}
	s, err := dialChannel(ctx, addr, pairing)
	if err != nil {
		return nil, err
	}
	bundle, err := w.Pay(reqWire, amount)
	if err != nil {
		s.Close()
		return nil, err
	}
	dial := func(ctx context.Context) (link.Conn, error) { return link.Dial(ctx, addr) }
	receipt, err := exchange.PayRetry(ctx, s, dial, bundle, payAttempts)
	if err != nil {
		if isRefusal(err) {
			return nil, fmt.Errorf("%w (the signed payment is kept as pending; if the payee never accepts it, its value returns at sync)", err)
		}
		return nil, fmt.Errorf("payment sent but no receipt came back (kept as pending; it settles at sync): %w", err)
	}
	if err := w.Confirm(receipt); err != nil {
		return nil, err
	}
	return receipt, nil
}

func isRefusal(err error) bool {
	return errors.Is(err, exchange.ErrRefused)
}

func walletReceive(e *env, args []string) error {
	fs := newFlags(e, "wallet receive", "--dir DIR [--listen ADDR] --pairing-out FILE.png [--amount AMOUNT] [--count N]")
	dir := fs.String("dir", "", "the wallet's folder")
	listen := fs.String("listen", defaultChannel, "address the channel listens on")
	out := fs.String("pairing-out", "", "write the pairing request's QR code as PNG")
	text := fs.String("text", "", "write the pairing request's text form (- for stdout)")
	amt := fs.String("amount", "", "ask for this amount (default: the payer chooses)")
	name := fs.String("name", "", "the name the payer sees")
	count := fs.Int("count", 1, "payments to receive before exiting")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	addrOut := fs.String("addr-out", "", "write the address actually listened on to this file (with --listen 127.0.0.1:0)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	var amount uint64
	if *amt != "" {
		if amount, err = w.amountArg(*amt); err != nil {
			return err
		}
	}
	static, err := channelKey(*dir)
	if err != nil {
		return err
	}
	p, err := newPayee(w.Wallet, static)
	if err != nil {
		return err
	}
	ln, err := link.Listen(*listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := writeAddr(*addrOut, ln); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stop := context.WithCancel(ctx)
	srv, wait := p.serve(ctx, ln, w.AcceptRetry)
	defer wait()
	defer stop()
	for i := 0; i < *count; i++ {
		req, err := p.request(amount, *name, *timeout)
		if err != nil {
			return err
		}
		if err := writeMessage(e, req, *out, *text); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "listening on %s; pairing code in %s\n", ln.Addr(), *out)
		if err := srv.WaitPaid(ctx, i+1); err != nil {
			return err
		}
		st, _ := w.Status()
		fmt.Fprintf(e.stdout, "received a payment over the channel; purse now %s\n", w.fmt(st.Available))
	}
	// A payer whose link dropped before the receipt reached it resumes and
	// asks again: stay for it a little.
	_ = srv.Drain(ctx)
	return nil
}

func walletSend(e *env, args []string) error {
	fs := newFlags(e, "wallet send", "--dir DIR --pairing FILE [--to ADDR] [AMOUNT]")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("pairing", "", "the payee's pairing request: PNG or JPEG of its code, or its text form")
	to := fs.String("to", defaultChannel, "the payee's channel address")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	req, err := readMessage(e, *in)
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	var amount uint64
	if len(pos) == 1 {
		if amount, err = w.amountArg(pos[0]); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if _, err := payOverChannel(ctx, w.Wallet, req, *to, amount); err != nil {
		return err
	}
	st, _ := w.Status()
	fmt.Fprintf(e.stdout, "paid over the encrypted channel; receipt recorded; purse now %s\n", w.fmt(st.Available))
	return nil
}

func writeAddr(path string, ln *link.Listener) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, []byte(ln.Addr().String()+"\n"), 0o644)
}

func dialChannel(ctx context.Context, addr string, p channel.Pairing) (*channel.Session, error) {
	c, err := link.Dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the payee at %s (nothing was paid): %w", addr, err)
	}
	s, err := channel.Dial(ctx, c, p)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("secure channel to the payee failed (nothing was paid): %w", err)
	}
	return s, nil
}
