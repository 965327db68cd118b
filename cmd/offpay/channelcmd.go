package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
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

// channelKeyLabel is what the channel key is sealed under (se.DataSealer).
const channelKeyLabel = "wallet/channel-key"

// channelKey loads (or makes, once) the wallet's static X25519 channel key.
// It is sealed by the wallet's SE, so that a copy of the folder without
// the PIN cannot answer as this payee; a key written in the clear by an
// older version is sealed the first time it is read.
func channelKey(w *wallet.Wallet, dir string) (*ecdh.PrivateKey, error) {
	sealer, ok := w.SE().(se.DataSealer)
	if !ok {
		return nil, errors.New("this secure element cannot seal the channel key")
	}
	p := filepath.Join(dir, channelKeyFile)
	b, err := os.ReadFile(p)
	switch {
	case err == nil && len(b) == 32: // from before sealing
		k, err := ecdh.X25519().NewPrivateKey(b)
		if err != nil {
			return nil, err
		}
		return k, writeChannelKey(sealer, p, k)
	case err == nil:
		raw, err := sealer.OpenData(channelKeyLabel, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", channelKeyFile, err)
		}
		return ecdh.X25519().NewPrivateKey(raw)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return k, writeChannelKey(sealer, p, k)
}

func writeChannelKey(sealer se.DataSealer, path string, k *ecdh.PrivateKey) error {
	b, err := sealer.SealData(channelKeyLabel, k.Bytes())
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

// payee is the receiving end of the encrypted channel.
type payee struct {
	w      *wallet.Wallet
	static *ecdh.PrivateKey
	resp   *channel.Responder
	addr   []byte // put in each request: where payers connect (protocol.PaymentRequest.Address)
}

func newPayee(w *wallet.Wallet, static *ecdh.PrivateKey) (*payee, error) {
	resp, err := channel.NewResponder(static, channel.ResponderConfig{})
	if err != nil {
		return nil, err
	}
	return &payee{w: w, static: static, resp: resp}, nil
}

// request makes a payment request that carries the channel key and a fresh
// one-time pairing secret (returned too): the payer's key to open the
// channel, and the address to reach it. The payer is shown the name the
// payee's certificate carries.
func (p *payee) request(amount uint64, ttl time.Duration) ([]byte, channel.Pairing, error) {
	pair, err := p.resp.Pair()
	if err != nil {
		return nil, channel.Pairing{}, err
	}
	req, err := p.w.RequestWith(se.RequestParams{Amount: amount,
		ChannelKey: p.static.PublicKey().Bytes(), Pairing: pair.Secret, Address: p.addr}, ttl)
	return req, pair, err
}

// serve answers payments on ln with handle, each link in its own session,
// until ctx ends; run it in a goroutine. A payer whose link dropped resumes
// its session and gets the receipt already issued (wallet.AcceptRetry).
// wait, called once ctx has ended (or ln was closed), waits for the
// sessions to end.
func (p *payee) serve(ctx context.Context, ln *link.Listener, handle exchange.Handler, configure ...func(*exchange.Payee)) (srv *exchange.Payee, wait func()) {
	srv = exchange.NewPayee(p.resp, handle)
	for _, f := range configure {
		f(srv)
	}
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
//
// confirm, if not nil, sees the certified payee before anything happens;
// an error from it ends the payment with nothing signed.
func payOverChannel(ctx context.Context, w *wallet.Wallet, reqWire []byte, addr string, amount uint64, confirm func(wallet.Payee) error) ([]byte, error) {
	payee, reqp, err := wallet.DescribeRequest(reqWire)
	if err != nil {
		return nil, err
	}
	req := *reqp
	if confirm != nil {
		if payee.Amount == 0 {
			payee.Amount = amount
		}
		if err := confirm(payee); err != nil {
			return nil, err
		}
	}
	if len(req.ChannelKey) == 0 {
		return nil, usageErrorf("this request has no channel key: pay it by QR (offpay wallet pay)")
	}
	if addr == "" {
		ap, ok := protocol.TCPAddressOf(req.Address)
		switch {
		case ok:
			addr = ap.String()
		case len(req.Address) > 0:
			return nil, usageErrorf("this pairing code names %s, which this command cannot reach: give --to HOST:PORT", protocol.AddressString(req.Address))
		default:
			return nil, usageErrorf("this pairing code does not say where the payee listens: give --to HOST:PORT")
		}
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
		// The channel spent the payee's code: say why nothing comes, so
		// that it shows the next customer a new one.
		exchange.GiveUp(ctx, s, publicReason(err))
		return nil, err
	}
	_ = w.Flush() // the payee's name beside the payment in the history
	dial := func(ctx context.Context) (link.Conn, error) { return link.Dial(ctx, addr) }
	receipt, err := exchange.PayRetry(ctx, s, dial, bundle, payAttempts)
	if err != nil {
		if isRefusal(err) {
			return nil, fmt.Errorf("%w. The signed payment is kept as pending: %s", err, unclaimedNote(bundle))
		}
		return nil, fmt.Errorf("payment sent but no receipt came back (%w). It is kept as pending: if the payee accepted it, it settles when either of you syncs; if not, %s", err, unclaimedNote(bundle))
	}
	if err := w.Confirm(receipt); err != nil {
		return nil, err
	}
	return receipt, nil
}

// unclaimedNote says when a payment the payee has not taken comes back
// (wallet.Record.ClaimDeadline).
func unclaimedNote(bundle []byte) string {
	var b protocol.PaymentBundle
	if protocol.OpenAs(bundle, &b) != nil {
		return "it returns to your account if the payee never takes it"
	}
	d := wallet.Record{Kind: wallet.KindPay, Time: b.Payment.Time}.ClaimDeadline()
	return fmt.Sprintf("the payee can still take it until %s. If it does not, its value comes back to your account (not the purse) after that, "+
		"as soon as the ledger knows the payee can no longer take it (the payee's wallet has synced twice since then, or the payee was revoked or its certificate expired); "+
		"your next wallet sync then shows it as expired", d.Format(time.RFC3339))
}

// publicReason is what a payer's wallet tells the payee when it cannot
// pay: the kind of refusal, never the purse's balance or limits.
func publicReason(err error) string {
	var e *se.Error
	if !errors.As(err, &e) {
		return "the payer's wallet refused the request"
	}
	switch e.Code {
	case se.CodeInsufficientFunds:
		return "not enough money in the purse"
	case se.CodeLimit:
		return fmt.Sprintf("an offline limit was reached (%s)", e.Which)
	case se.CodeExpired:
		return "the request expired"
	case se.CodeOfflineTooLong:
		return "the payer's wallet must sync first (offline too long)"
	case se.CodeRevoked:
		return "revoked"
	case se.CodeReceiveOnly:
		return "the payer's device only receives"
	case se.CodeNonceUsed:
		return "this request was paid before"
	}
	return fmt.Sprintf("the payer's wallet refused the request (%s)", e.Code)
}

func isRefusal(err error) bool {
	return errors.Is(err, exchange.ErrRefused)
}

func walletReceive(e *env, args []string) error {
	fs := newFlags(e, "wallet receive", "--dir DIR [--listen ADDR] {--pairing-out FILE.png | --text FILE | --sound-out FILE.wav} [--amount AMOUNT] [--count N]")
	dir := fs.String("dir", "", "the wallet's folder")
	listen := fs.String("listen", defaultChannel, "address the channel listens on")
	out := fs.String("pairing-out", "", "write the pairing request's QR code as PNG")
	text := fs.String("text", "", "write the pairing request's text form (- for stdout)")
	amt := fs.String("amount", "", "ask for this amount (default: the payer chooses)")
	name := fs.String("name", "", "check that this device is certified with this name (the payer is shown the certified name, never another)")
	count := fs.Int("count", 1, "payments to receive before exiting")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	addrOut := fs.String("addr-out", "", "write the address actually listened on to this file (with --listen 127.0.0.1:0)")
	advertise := fs.String("advertise", "", "the IP:PORT payers connect to, put in the pairing code (default: the address listened on; with 0.0.0.0, this machine's first network address)")
	onlineEvery := fs.Duration("online-every", time.Second, "while a code is on show, ask the ledger this often whether a payer paid it online (wallet pay --online); 0: never")
	snd := addSoundOut(fs, "the pairing request")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkCodeOutputs("pairing-out", *out, *text, snd); err != nil {
		return err
	}
	if err := noArgs("wallet receive", pos); err != nil {
		return err
	}
	if *count < 1 {
		return usageErrorf("--count must be at least 1")
	}
	if *timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	if *onlineEvery < 0 {
		return usageErrorf("--online-every cannot be negative")
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if err := checkOwnName(w.Wallet, *name); err != nil {
		return err
	}
	var amount uint64
	if *amt != "" {
		if amount, err = w.amountArg(*amt); err != nil {
			return err
		}
	}
	static, err := channelKey(w.Wallet, *dir)
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
	var shown string
	if p.addr, shown, err = advertised(*advertise, ln); err != nil {
		return err
	}
	if err := writeAddr(*addrOut, ln); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stop := context.WithCancel(ctx)
	ends := make(chan exchange.SessionEnd, 16)
	srv, wait := p.serve(ctx, ln, w.AcceptRetry, func(x *exchange.Payee) {
		x.Ended = func(end exchange.SessionEnd) {
			select {
			case ends <- end:
			default:
			}
		}
	})
	defer wait()
	defer stop()
	life := min(*timeout, channel.DefaultPairingTTL)
	onlinePaid := 0
	for i := 0; i < *count; i++ {
		req, pairing, err := p.request(amount, life)
		if err != nil {
			return err
		}
		if err := writeCode(e, req, *out, *text, snd); err != nil {
			return err
		}
		say(e, "listening on %s (payers connect to %s); pairing code in %s\n", ln.Addr(), shown, codeName(*out, *text, snd, req))
		octx, stopWatch := context.WithCancel(ctx)
		online := watchOnline(octx, w, req, *onlineEvery)
		paid, rc, why, err := awaitPayment(ctx, srv, ends, i+1-onlinePaid, pairing.ID(), life, online)
		stopWatch()
		if err != nil {
			return err
		}
		if rc != nil {
			onlinePaid++
			say(e, "paid online: %s into the account, receipt %s (signed by the ledger)\n", w.fmt(rc.Amount), rc.Payment.String()[:16])
			continue
		}
		if !paid {
			// The code is spent (or expired): a new one, in the same place.
			if why == "" {
				why = "the pairing code expired unused"
			}
			say(e, "%s; a new pairing code follows\n", why)
			i--
			continue
		}
		st, _ := w.Status()
		say(e, "received a payment over the channel; purse now %s\n", w.fmt(st.Available))
	}
	// A payer whose link dropped before the receipt reached it resumes and
	// asks again: stay for it a little.
	_ = srv.Drain(ctx)
	return nil
}

func walletSend(e *env, args []string) error {
	fs := newFlags(e, "wallet send", "--dir DIR {--pairing FILE | --sound-in FILE.wav} [--to ADDR] [AMOUNT]")
	dir := fs.String("dir", "", "the wallet's folder")
	in := fs.String("pairing", "", "the payee's pairing request: PNG or JPEG of its code, its text form, or a WAV recording of its sound")
	soundIn := fs.String("sound-in", "", "the payee's pairing request as sound: a WAV recording of it (--sound-out of wallet receive), - for stdin")
	to := fs.String("to", "", "the payee's channel address HOST:PORT (default: the one in the pairing code)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	expect := fs.String("payee", "", "pay only if the payee is certified with this name (a merchant's name, a person's account)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	amt, err := optAmount("wallet send", pos)
	if err != nil {
		return err
	}
	switch {
	case *in != "" && *soundIn != "":
		return usageErrorf("give --pairing FILE or --sound-in FILE.wav, not both")
	case *in == "" && *soundIn == "":
		return usageErrorf("--pairing FILE or --sound-in FILE.wav is required (the payee's pairing code: a PNG or JPEG of it, its text form, or a recording of its sound)")
	}
	if *timeout <= 0 {
		return usageErrorf("--timeout must be positive")
	}
	var req []byte
	if *soundIn != "" {
		req, err = readSound(e, *soundIn)
	} else {
		req, err = readMessage(e, *in)
	}
	if err != nil {
		return err
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	var amount uint64
	if amt != "" {
		if amount, err = w.amountArg(amt); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if _, err := payOverChannel(ctx, w.Wallet, req, *to, amount, showPayee(e, w, amount, *expect)); err != nil {
		return err
	}
	st, _ := w.Status()
	payee, _, _ := wallet.DescribeRequest(req)
	if amount == 0 {
		amount = payee.Amount
	}
	fmt.Fprintf(e.stdout, "paid %s to %s over the encrypted channel; receipt recorded; purse now %s\n", w.fmt(amount), payee, w.fmt(st.Available))
	return nil
}

// advertised is the address payers are told to connect to (it goes in
// every pairing code): advertise if given, else the address ln listens
// on, an unspecified host (0.0.0.0, ::) replaced by this machine's first
// address that is up and not loopback. It returns the address as it
// travels (protocol.TCPAddress) and as a person reads it.
func advertised(advertise string, ln *link.Listener) ([]byte, string, error) {
	var ap netip.AddrPort
	if advertise != "" {
		var err error
		if ap, err = netip.ParseAddrPort(advertise); err != nil {
			return nil, "", usageErrorf("--advertise %q: want an IP address and port, like 192.168.1.20:8421 or [2001:db8::20]:8421 (%v)", advertise, err)
		}
	} else {
		ta, ok := ln.Addr().(*net.TCPAddr)
		if !ok {
			return nil, "", usageErrorf("listening on %s: give --advertise IP:PORT", ln.Addr())
		}
		ap = ta.AddrPort()
		if ap.Addr().Unmap().IsUnspecified() {
			ip, ok := hostAddress()
			if !ok {
				return nil, "", usageErrorf("listening on %s, every interface, and no address of this machine was found to tell payers: give --advertise IP:PORT", ln.Addr())
			}
			ap = netip.AddrPortFrom(ip, ap.Port())
		}
	}
	a, err := protocol.TCPAddress(ap)
	if err != nil {
		return nil, "", usageErrorf("--advertise %s: %v", ap, err)
	}
	return a, protocol.AddressString(a), nil
}

// hostAddress is this machine's first address that is up, not loopback
// and not link-local: IPv4 first.
func hostAddress() (netip.Addr, bool) {
	ifs, err := net.Interfaces()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, want4 := range []bool{true, false} {
		for _, i := range ifs {
			if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
				continue
			}
			as, _ := i.Addrs()
			for _, a := range as {
				n, ok := a.(*net.IPNet)
				if !ok {
					continue
				}
				ip, ok := netip.AddrFromSlice(n.IP)
				ip = ip.Unmap()
				if !ok || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.Is4() != want4 {
					continue
				}
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

func writeAddr(path string, ln *link.Listener) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, []byte(ln.Addr().String()+"\n"), 0o600)
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
