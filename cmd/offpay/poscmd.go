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

	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/wallet"
)

func init() {
	register("pos",
		command{"run", "a merchant terminal: show requests, take payments over the channel, upload when online", posRun},
	)
}

// posRisk are a merchant's offline risk settings, as card terminals have.
type posRisk struct {
	maxPayment   uint64
	maxUnsettled uint64
	maxOffline   time.Duration
	issuers      map[protocol.KeyID]bool // empty: any issuer the SE trusts

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

// errRisk is a payment the merchant's own risk settings refuse; errOffline
// is the refusal for having been offline too long, which a sync cures.
var (
	errRisk    = errors.New("refused by the terminal's risk settings")
	errOffline = fmt.Errorf("%w: offline too long", errRisk)
)

func (r *posRisk) check(w *wallet.Wallet, b *protocol.PaymentBundle, now time.Time) error {
	if r.maxPayment > 0 && b.Payment.Amount > r.maxPayment {
		return fmt.Errorf("%w: %d above the per-payment cap %d", errRisk, b.Payment.Amount, r.maxPayment)
	}
	if len(r.issuers) > 0 && !r.issuers[b.Cert.Issuer] {
		return fmt.Errorf("%w: issuer %s not accepted here", errRisk, b.Cert.Issuer)
	}
	if u := unsettled(w); r.maxUnsettled > 0 && u+b.Payment.Amount > r.maxUnsettled {
		return fmt.Errorf("%w: %d unsettled, cap %d: go online", errRisk, u, r.maxUnsettled)
	}
	if off, since := r.offlineFor(now); r.maxOffline > 0 && off > r.maxOffline {
		return fmt.Errorf("%w: since %s, cap %s: go online", errOffline, since.Format(time.RFC3339), r.maxOffline)
	}
	return nil
}

// unsettled is the value received and not yet settled by the ledger.
func unsettled(w *wallet.Wallet) uint64 {
	var sum uint64
	for _, r := range w.History() {
		if r.Kind == wallet.KindReceive && r.State != wallet.Settled && r.State != wallet.Rejected {
			sum += r.Amount
		}
	}
	return sum
}

func posRun(e *env, args []string) error {
	fs := newFlags(e, "pos run", "--dir DIR [--listen ADDR] [--amount AMOUNT] [risk flags]")
	dir := fs.String("dir", "", "the terminal's wallet folder (made with offpay wallet init on a merchant account)")
	listen := fs.String("listen", defaultChannel, "address the channel listens on")
	amt := fs.String("amount", "", "ask every customer for this amount (default: the payer chooses)")
	name := fs.String("name", "", "the name customers see")
	count := fs.Int("count", 0, "stop after this many payments (0: run until interrupted)")
	maxPay := fs.String("max-payment", "", "refuse single payments above this amount")
	maxUns := fs.String("max-unsettled", "", "refuse payments while this much is held unsettled")
	maxOff := fs.Duration("max-offline", 0, "refuse payments after this long without reaching the ledger (0: no cap)")
	issuers := fs.String("issuers", "", "comma-separated issuer key ids accepted (default: any the SE trusts)")
	pngOut := fs.String("pairing-out", "", "also write each request's QR code to this PNG file (a %d in the name is replaced by the request's number: a refused payment's request is replaced by the next one)")
	timeout := fs.Duration("timeout", 0, "stop after this long (0: no limit)")
	quiet := fs.Bool("no-terminal-qr", false, "do not draw the QR code in the terminal")
	addrOut := fs.String("addr-out", "", "write the address actually listened on to this file (with --listen 127.0.0.1:0)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	// Serving goroutines print too (a sync for a payment refused as
	// offline too long): one writer at a time.
	e = &env{stdin: e.stdin, stdout: &lockedOut{w: e.stdout}, stderr: e.stderr, getenv: e.getenv}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	// The offline clock starts at the wallet's last sync, not at start-up:
	// restarting the terminal does not extend its offline life.
	st0, err := w.Status()
	if err != nil {
		return err
	}
	risk := &posRisk{issuers: map[protocol.KeyID]bool{}, maxOffline: *maxOff, lastLedgerRun: st0.LastSync}
	for _, s := range []struct {
		in  string
		out *uint64
	}{{*maxPay, &risk.maxPayment}, {*maxUns, &risk.maxUnsettled}} {
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
		risk.issuers[id] = true
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	// A refused payment spends the request's one-time pairing: the loop
	// then shows the next customer a new request.
	refusals := make(chan error, 1)
	refused := func(err error) {
		select {
		case refusals <- err:
		default:
		}
	}
	handle := func(bundle []byte) ([]byte, bool, error) {
		var b protocol.PaymentBundle
		if err := protocol.OpenAs(bundle, &b); err != nil {
			refused(err)
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
				refused(err)
				return nil, false, err
			}
		}
		r, repeat, err := w.AcceptRetry(bundle)
		if err != nil {
			refused(err)
		}
		return r, repeat, err
	}
	sctx, cancelServe := context.WithCancel(ctx)
	srv, wait := p.serve(sctx, ln, handle)
	defer wait()
	defer cancelServe()
	defer func() { _ = srv.Drain(ctx) }() // a payer may resume after a drop
	fmt.Fprintf(e.stdout, "POS terminal on %s, account %s\n", ln.Addr(), w.cfg.Account)
	posUpload(ctx, e, w, risk, false)
	shown := 0
	for n := 0; *count == 0 || n < *count; n++ {
		shown++
		req, err := p.request(amount, *name, 10*time.Minute)
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
		fmt.Fprintf(e.stdout, "waiting for payment %d (request %s...)\n", n+1, hex.EncodeToString(req[len(req)-8:]))
		wctx, wcancel := context.WithCancel(ctx)
		paid := make(chan error, 1)
		go func() { paid <- srv.WaitPaid(wctx, n+1) }()
		select {
		case err := <-paid:
			wcancel()
			if err != nil {
				fmt.Fprintln(e.stdout, "terminal stopped")
				return nil
			}
		case rerr := <-refusals:
			wcancel()
			if <-paid == nil { // paid meanwhile after all (another session)
				break
			}
			fmt.Fprintf(e.stdout, "REFUSED: %s\n", errText(rerr))
			n-- // the same payment number, with a new request
			continue
		}
		st, _ := w.Status()
		fmt.Fprintf(e.stdout, "PAID. Purse %s, held unsettled %s\n", w.fmt(st.Available), w.fmt(unsettled(w.Wallet)))
		posUpload(ctx, e, w, risk, false)
	}
	return nil
}

// posUpload tries to sync. The SE's log is the durable queue: what cannot
// be uploaded now stays there and goes with the next attempt. With nothing
// queued it still syncs when forced, or when half the offline cap has
// passed since the ledger was last reached (which also brings a fresh
// revocation list), so that an idle terminal never drifts into refusing.
func posUpload(ctx context.Context, e *env, w *openedWallet, risk *posRisk, force bool) {
	st, err := w.Status()
	if err != nil {
		return
	}
	queued := st.SE.ToUpload
	off, _ := risk.offlineFor(time.Now())
	if queued == 0 && !force && (risk.maxOffline == 0 || off < risk.maxOffline/2) {
		return
	}
	fmt.Fprintf(e.stdout, "uploading %d log entr(ies) to the ledger... ", queued)
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := w.Sync(sctx); err != nil {
		if errors.Is(err, ledgerclient.ErrUnreachable) {
			fmt.Fprintf(e.stdout, "ledger unreachable: %d entr(ies) kept in the queue for the next attempt\n", queued)
			return
		}
		fmt.Fprintf(e.stdout, "refused: %s\n", errText(err))
		return
	}
	risk.reached(time.Now())
	st, _ = w.Status()
	fmt.Fprintf(e.stdout, "done (%d/%d); held unsettled now %s\n", queued-st.SE.ToUpload, queued, w.fmt(unsettled(w.Wallet)))
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
