package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/wallet"
	"github.com/offpay/offpay/wallet/posrisk"
)

func init() {
	register("pos",
		command{"run", "a merchant terminal: show requests, take payments over the channel, upload when online", posRun},
	)
}

// posRisk are a merchant's offline risk settings (package posrisk, which
// the browser's POS page checks too) and when the ledger was last reached.
type posRisk struct {
	posrisk.Settings

	mu            sync.Mutex // the serving goroutines and the main loop both sync
	lastLedgerRun time.Time
}

// reached records a successful sync.
func (r *posRisk) reached(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastLedgerRun = t
}

// offlineFor is how long the terminal has not reached the ledger.
func (r *posRisk) offlineFor(now time.Time) (time.Duration, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return now.Sub(r.lastLedgerRun), r.lastLedgerRun
}

// errOffline is the refusal for having been offline too long, which a
// sync cures.
var errOffline = posrisk.ErrOffline

func (r *posRisk) check(w *wallet.Wallet, b *protocol.PaymentBundle, now time.Time) error {
	_, since := r.offlineFor(now)
	return r.Settings.Check(w, b, now, since)
}

// unsettled is the value received and not yet settled by the ledger.
func unsettled(w *wallet.Wallet) uint64 { return posrisk.Unsettled(w) }

func posRun(e *env, args []string) error {
	fs := newFlags(e, "pos run", "--dir DIR [--listen ADDR] [--amount AMOUNT] [risk flags] [--refund-out FILE.png]")
	dir := fs.String("dir", "", "the terminal's wallet folder (made with offpay wallet init on a merchant account)")
	listen := fs.String("listen", defaultChannel, "address the channel listens on")
	amt := fs.String("amount", "", "ask every customer for this amount (default: the payer chooses)")
	name := fs.String("name", "", "check that this terminal is certified with this name: customers are shown the name in its certificate")
	count := fs.Int("count", 0, "stop after this many payments (0: run until interrupted)")
	maxPay := fs.String("max-payment", "", "refuse single payments above this amount")
	maxUns := fs.String("max-unsettled", "", "refuse payments while this much is held unsettled")
	maxOff := fs.Duration("max-offline", 0, "refuse payments after this long without reaching the ledger (0: no cap)")
	issuers := fs.String("issuers", "", "comma-separated issuer key ids accepted (default: any the SE trusts)")
	pngOut := fs.String("pairing-out", "", "also write each request's QR code to this PNG file (a %d in the name is replaced by the request's number: a refused payment's request is replaced by the next one)")
	timeout := fs.Duration("timeout", 0, "stop after this long (0: no limit)")
	quiet := fs.Bool("no-terminal-qr", false, "do not draw the QR code in the terminal")
	addrOut := fs.String("addr-out", "", "write the address actually listened on to this file (with --listen 127.0.0.1:0)")
	hsTimeout := fs.Duration("handshake-timeout", exchange.DefaultHandshakeTimeout, "close a channel link whose handshake has not finished after this long")
	refundOut := fs.String("refund-out", "", "also write each refund's QR code to this PNG file (%d: the number of the code shown); refunds are asked on standard input: refund SALE [AMOUNT], refund last [AMOUNT], sales")
	advertise := fs.String("advertise", "", "the IP:PORT customers connect to, put in every code (default: the address listened on; with 0.0.0.0, this machine's first network address)")
	retryFirst := fs.Duration("upload-retry", 5*time.Second, "after a failed upload, try again after this long, doubling up to 5m while log entries are queued")
	nfcReader := fs.String("nfc", "", "take payments by card taps on this PC/SC reader (a contactless reader) instead of QR codes: the card's PIN from "+cardPINEnv+"; the amount from --amount or one line of standard input per customer")
	onlineEvery := fs.Duration("online-every", time.Second, "while a code is on show, ask the ledger this often whether a payer paid it online (wallet pay --online); 0: never")
	snd := addSoundOut(fs, "each request (%d as in --pairing-out)")
	snd.perCode = true
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("pos run", pos); err != nil {
		return err
	}
	if *hsTimeout <= 0 {
		return usageErrorf("--handshake-timeout must be positive")
	}
	if *retryFirst <= 0 {
		return usageErrorf("--upload-retry must be positive")
	}
	if *count < 0 || *maxOff < 0 || *timeout < 0 || *onlineEvery < 0 {
		return usageErrorf("--count, --max-offline, --timeout and --online-every cannot be negative")
	}
	if *pngOut != "" {
		first := *pngOut
		if strings.Contains(first, "%d") {
			first = fmt.Sprintf(first, 1)
		}
		if err := writable(first); err != nil {
			return usageErrorf("--pairing-out: cannot write %s: %v", first, err)
		}
	}
	if err := snd.check(); err != nil {
		return err
	}
	// Serving goroutines print too (a sync for a payment refused as
	// offline too long): one writer at a time.
	e = &env{stdin: e.stdin, stdout: &lockedOut{w: e.stdout}, stderr: e.stderr, getenv: e.getenv}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	if err := checkOwnName(w.Wallet, *name); err != nil {
		return err
	}
	// The offline clock starts at the wallet's last sync, not at start-up:
	// restarting the terminal does not extend its offline life.
	st0, err := w.Status()
	if err != nil {
		return err
	}
	risk := &posRisk{Settings: posrisk.Settings{Issuers: map[protocol.KeyID]bool{}, MaxOffline: *maxOff, Currency: st0.Currency}, lastLedgerRun: st0.LastSync}
	for _, s := range []struct {
		in  string
		out *uint64
	}{{*maxPay, &risk.MaxPayment}, {*maxUns, &risk.MaxUnsettled}} {
		if s.in != "" {
			if *s.out, err = w.amountArg(s.in); err != nil {
				return err
			}
		}
	}
	for _, h := range strings.Split(*issuers, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		id, err := protocol.ParseKeyID(h)
		if err != nil {
			return usageErrorf("--issuers: %v", err)
		}
		risk.Issuers[id] = true
	}
	var amount uint64
	if *amt != "" {
		if amount, err = w.amountArg(*amt); err != nil {
			return err
		}
	}
	if *nfcReader != "" {
		return posNFC(e, w, risk, *nfcReader, amount, *count, *timeout)
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
	var reach string
	if p.addr, reach, err = advertised(*advertise, ln); err != nil {
		return err
	}
	if err := writeAddr(*addrOut, ln); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	handle := func(bundle []byte) ([]byte, bool, error) {
		var b protocol.PaymentBundle
		if err := protocol.OpenAs(bundle, &b); err != nil {
			return nil, false, err
		}
		// A payer retrying after a drop gets its receipt again, whatever
		// the risk settings say now (its own payment counts in them).
		if _, retried := w.Receipt(b.Payment.ID()); !retried {
			err := risk.check(w.Wallet, &b, time.Now())
			if errors.Is(err, errOffline) {
				// Offline too long: try the ledger now, then decide.
				posUpload(ctx, e, w, risk, true)
				err = risk.check(w.Wallet, &b, time.Now())
			}
			if err != nil {
				return nil, false, err
			}
		}
		return w.AcceptRetry(bundle)
	}
	// Every session opened with the code on show spends its one-time
	// pairing: one that ends without a payment (refused, or the payer's
	// wallet could not pay) makes the loop show the next customer a new
	// code, and say why.
	ends := make(chan exchange.SessionEnd, 64)
	sctx, cancelServe := context.WithCancel(ctx)
	srv, wait := p.serve(sctx, ln, handle, func(x *exchange.Payee) {
		x.HandshakeTimeout = *hsTimeout
		x.Ended = func(end exchange.SessionEnd) {
			select {
			case ends <- end:
			default:
			}
		}
	})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchLoad(sctx, e.stdout, srv, *hsTimeout, loadReportEvery)
	}()
	up := &uploader{e: e, w: w, risk: risk, kick: make(chan struct{}, 1), first: *retryFirst, most: max(posRetryMost, *retryFirst)}
	uploading := make(chan struct{})
	go func() {
		defer close(uploading)
		up.run(sctx)
	}()
	defer wait()
	defer up.last() // what is still queued, once more before stopping
	defer func() { <-uploading }()
	defer func() { <-watched }()
	defer cancelServe()
	defer func() { _ = srv.Drain(ctx) }() // a payer may resume after a drop
	fmt.Fprintf(e.stdout, "POS terminal on %s, account %s; payers are shown %s (certified by the ledger); they connect to %s (it is in every code)\n",
		ln.Addr(), w.cfg.Account, certifiedAs(w.Wallet), reach)
	up.now()
	go posCommands(ctx, e, w, e.stdin, *refundOut, *quiet)
	shown, onlinePaid := 0, 0
	for n := 0; *count == 0 || n < *count; n++ {
		shown++
		req, pairing, err := p.request(amount, posCodeTTL)
		if err != nil {
			return err
		}
		text := qr.EncodeText(req)
		if !*quiet {
			if err := qr.Terminal(e.stdout, text, qr.M); err != nil {
				return err
			}
		}
		if *pngOut != "" {
			path := *pngOut
			if strings.Contains(path, "%d") {
				path = fmt.Sprintf(path, shown)
			}
			if err := writeMessage(e, req, path, ""); err != nil {
				return err
			}
		}
		if *snd.path != "" {
			if err := snd.writeTo(snd.numbered(shown), req); err != nil {
				return err
			}
		}
		fmt.Fprintf(e.stdout, "waiting for payment %d (request %s...)\n", n+1, hex.EncodeToString(req[len(req)-8:]))
		octx, stopWatch := context.WithCancel(ctx)
		online := watchOnline(octx, w, req, *onlineEvery)
		paid, rc, why, err := awaitPayment(ctx, srv, ends, n+1-onlinePaid, pairing.ID(), posCodeTTL-posCodeMargin, online)
		stopWatch()
		if err != nil {
			fmt.Fprintln(e.stdout, "terminal stopped")
			return nil
		}
		if rc != nil {
			onlinePaid++
			fmt.Fprintf(e.stdout, "PAID ONLINE: %s into the account, receipt %s (signed by the ledger)\n", w.fmt(rc.Amount), rc.Payment.String()[:16])
			continue
		}
		if !paid {
			if why != "" {
				fmt.Fprintf(e.stdout, "%s; a new code for the next customer\n", why)
			}
			n-- // the same payment number, with a new code
			continue
		}
		st, _ := w.Status()
		fmt.Fprintf(e.stdout, "PAID. Purse %s, held unsettled %s\n", w.fmt(st.Available), w.fmt(unsettled(w.Wallet)))
		up.now()
	}
	return nil
}

// The terminal's code: its request and pairing are valid posCodeTTL (the
// channel's pairing lifetime), and it is replaced posCodeMargin before, so
// that a customer who scanned it just before still pays with it.
const (
	posCodeTTL    = channel.DefaultPairingTTL
	posCodeMargin = 30 * time.Second
)

// awaitPayment waits, with the code whose pairing is code on show, until
// n payments were accepted (paid), or until the code is spent without a
// payment (a session it opened ended unpaid: why says what happened), or
// until it is about to expire (why is empty), or until ctx ends (err).
//
// A receipt on online (the code paid online, watchOnline) ends the wait
// too: paid, with the receipt.
func awaitPayment(ctx context.Context, srv *exchange.Payee, ends <-chan exchange.SessionEnd, n int, code [channel.IDLen]byte, life time.Duration,
	online <-chan *protocol.OnlineReceipt) (paid bool, rc *protocol.OnlineReceipt, why string, err error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.WaitPaid(wctx, n) }()
	expire := time.NewTimer(life)
	defer expire.Stop()
	for {
		select {
		case err := <-done:
			return err == nil, nil, "", err
		case rc = <-online:
			cancel()
			if <-done == nil { // paid by channel meanwhile too: two payments
				return true, nil, "", nil
			}
			return true, rc, "", nil
		case <-expire.C:
		case end := <-ends:
			if end.Resumed || end.Pairing != code || end.Paid {
				continue
			}
			why = notPaid(end)
		}
		cancel()
		if <-done == nil { // paid meanwhile (another session)
			return true, nil, "", nil
		}
		if ctx.Err() != nil {
			return false, nil, "", ctx.Err()
		}
		return false, nil, why, nil
	}
}

// watchOnline asks the ledger every so often, until ctx ends or the
// answer comes, whether a payer paid req online; the checked receipt is
// sent on the channel it returns. every 0, or no ledger: it never sends.
func watchOnline(ctx context.Context, w *openedWallet, req []byte, every time.Duration) <-chan *protocol.OnlineReceipt {
	out := make(chan *protocol.OnlineReceipt, 1)
	if every <= 0 || w.cfg.Ledger == "" {
		return out
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if rc, err := w.OnlineReceipt(ctx, req); err == nil {
				out <- rc
				return
			}
		}
	}()
	return out
}

// notPaid says why a session ended without a payment.
func notPaid(end exchange.SessionEnd) string {
	switch {
	case end.Refused != nil:
		return "REFUSED: " + message(end.Refused)
	case end.GaveUp != "":
		return "NOT PAID: the payer's wallet could not pay: " + end.GaveUp
	case end.Busy:
		return "NOT PAID: too many payers at once"
	}
	return "NOT PAID: a payer opened the channel with the code and left without paying"
}

// posRetryMost bounds the wait between two attempts to upload.
const posRetryMost = 5 * time.Minute

// uploader syncs the terminal in the background: when asked (at start and
// after each payment); every minute (or a quarter of the offline cap),
// which syncs an idle terminal once half its offline cap has passed; and,
// after a failed attempt, again with backoff (first, doubling up to most)
// while log entries are queued. Each attempt and each retry is on screen.
type uploader struct {
	e           *env
	w           *openedWallet
	risk        *posRisk
	kick        chan struct{}
	first, most time.Duration
}

// now asks for an attempt without waiting for it.
func (u *uploader) now() {
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

func (u *uploader) run(ctx context.Context) {
	every := time.Minute
	if m := u.risk.MaxOffline / 4; m > 0 && m < every {
		every = m
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var backoff time.Duration
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.kick:
		case <-tick.C:
			if retry != nil {
				continue // the retry comes at its time
			}
		case <-retry:
		}
		tried, queued, err := posUpload(ctx, u.e, u.w, u.risk, false)
		switch {
		case ctx.Err() != nil:
			return
		case !tried || err == nil || queued == 0:
			backoff, retry = 0, nil
		default:
			backoff = min(max(2*backoff, u.first), u.most)
			retry = time.After(backoff)
			fmt.Fprintf(u.e.stdout, "RETRY: %d log entr(ies) queued; next upload attempt in %s\n", queued, backoff)
		}
	}
}

// last tries, once, to upload what is still queued as the terminal stops.
func (u *uploader) last() {
	st, err := u.w.Status()
	if err != nil || st.SE.ToUpload == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, queued, err := posUpload(ctx, u.e, u.w, u.risk, false); err != nil && queued > 0 {
		fmt.Fprintf(u.e.stdout, "stopping with %d log entr(ies) queued: they go with the next sync (offpay wallet sync, or the next run)\n", queued)
	}
}

// posUpload tries to sync, and reports whether it tried, what is still
// queued and why it failed. The SE's log is the durable queue: what cannot
// be uploaded now stays there and goes with the next attempt. With nothing
// queued it still syncs when forced, or when half the offline cap has
// passed since the ledger was last reached (which also brings a fresh
// revocation list), so that an idle terminal never drifts into refusing.
func posUpload(ctx context.Context, e *env, w *openedWallet, risk *posRisk, force bool) (tried bool, queued uint64, err error) {
	st, err := w.Status()
	if err != nil {
		return false, 0, err
	}
	queued = st.SE.ToUpload
	off, _ := risk.offlineFor(time.Now())
	if queued == 0 && !force && (risk.MaxOffline == 0 || off < risk.MaxOffline/2) {
		return false, 0, nil
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := w.Sync(sctx); err != nil {
		if errors.Is(err, ledgerclient.ErrUnreachable) {
			fmt.Fprintf(e.stdout, "uploading %d log entr(ies) to the ledger: ledger unreachable; kept in the queue\n", queued)
		} else {
			fmt.Fprintf(e.stdout, "uploading %d log entr(ies) to the ledger: refused: %s\n", queued, message(err))
		}
		return true, queued, err
	}
	risk.reached(time.Now())
	st, _ = w.Status()
	fmt.Fprintf(e.stdout, "uploading %d log entr(ies) to the ledger: done (%d/%d); held unsettled now %s\n",
		queued, queued-st.SE.ToUpload, queued, w.fmt(unsettled(w.Wallet)))
	return true, st.SE.ToUpload, nil
}

// loadReportEvery is how often, at most, the terminal reports load shed.
const loadReportEvery = 5 * time.Second

// watchLoad reports on out, at most every `every`, the links the channel
// closed to keep taking payments (exchange.Load), until ctx ends: a
// terminal being flooded with connections says so, and goes on serving.
func watchLoad(ctx context.Context, out io.Writer, srv *exchange.Payee, hsTimeout, every time.Duration) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var shown exchange.Load
	var last time.Time
	for {
		stopping := false
		select {
		case <-ctx.Done():
			stopping = true // report what was not reported yet
		case <-tick.C:
		}
		l := srv.Load()
		if l == shown || (!stopping && time.Since(last) < every) {
			if stopping {
				return
			}
			continue
		}
		var parts []string
		if n := l.SlowHandshakes - shown.SlowHandshakes; n > 0 {
			parts = append(parts, fmt.Sprintf("cut %d link(s) with no handshake after %s", n, hsTimeout))
		}
		if n := l.Shed - shown.Shed; n > 0 {
			parts = append(parts, fmt.Sprintf("shed %d waiting link(s) for newer ones (%d may wait)", n, srv.MaxHandshakes))
		}
		if n := l.Busy - shown.Busy; n > 0 {
			parts = append(parts, fmt.Sprintf("refused %d session(s): %d already being served", n, srv.MaxSessions))
		}
		fmt.Fprintf(out, "LOAD: %s; payments go on\n", strings.Join(parts, ", "))
		shown, last = l, time.Now()
		if stopping {
			return
		}
	}
}

// lockedOut serialises writes from several goroutines.
type lockedOut struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedOut) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
