package bench

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
)

// BLE is the emulated link of the latency figures: a 15 ms connection
// interval and a 247-byte ATT MTU (244-byte frames), phone to phone.
var BLE = link.Config{ATTMTU: 247, Interval: 15 * time.Millisecond}

// walletLedger adapts an in-process ledger to what a wallet needs.
type walletLedger struct{ *ledger.Service }

func (l walletLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	e, err := l.Service.Enrol(ctx, r)
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}

// Pair is a payer and a payee wallet, each on a virtual SE in its own
// folder (state written with fsync, as on a phone), enrolled with svc.
type Pair struct {
	Payer, Payee *wallet.Wallet
	static       *ecdh.PrivateKey
	resp         *channel.Responder
	paid         int
}

// NewPair makes the two wallets in dir; the payer reserves reserve.
func NewPair(ctx context.Context, svc *ledger.Service, dir string, reserve uint64) (*Pair, error) {
	p := &Pair{}
	for i, who := range []struct {
		name     string
		merchant bool
		deposit  int64
	}{{"payer", false, int64(reserve)}, {"payee", true, 0}} {
		if who.merchant {
			// An 11-character certified name, as SPEC.md's typical sizes.
			if _, err := svc.CreateMerchant(ctx, who.name, "Corner Shop"); err != nil {
				return nil, err
			}
		} else if err := (ServiceAdmin{svc}).CreateAccount(ctx, who.name, who.merchant, who.deposit); err != nil {
			return nil, err
		}
		// A cheap PIN KDF: unlocking is not what is measured.
		v, err := vse.Create(filepath.Join(dir, who.name, "se"), "246810", &vse.Options{KDF: vse.MinKDF})
		if err != nil {
			return nil, err
		}
		w, err := wallet.Open(v, filepath.Join(dir, who.name), &wallet.Options{Ledger: walletLedger{svc}})
		if err != nil {
			return nil, err
		}
		if err := w.Enrol(ctx, who.name); err != nil {
			return nil, err
		}
		if i == 0 {
			p.Payer = w
		} else {
			p.Payee = w
		}
	}
	if err := p.Payer.Reserve(ctx, reserve); err != nil {
		return nil, err
	}
	var err error
	if p.static, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	p.resp, err = channel.NewResponder(p.static, channel.ResponderConfig{})
	return p, err
}

// beforePay keeps the payer inside its offline limits: every 40 payments
// it syncs (untimed), as a phone would when it is back online.
func (p *Pair) beforePay(ctx context.Context) error {
	p.paid++
	if p.paid%40 != 0 {
		return nil
	}
	if err := p.Payer.Sync(ctx); err != nil {
		return err
	}
	return p.Payee.Sync(ctx)
}

// Direct times one payment handed over in memory: the payer's SE signs,
// the payee's SE verifies and signs its receipt, the payer's SE records
// it. Making the request is not timed (the payee shows it beforehand).
func (p *Pair) Direct(ctx context.Context, amount uint64) (time.Duration, error) {
	if err := p.beforePay(ctx); err != nil {
		return 0, err
	}
	req, err := p.Payee.Request(amount, time.Minute)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	bundle, err := p.Payer.Pay(req, 0)
	if err != nil {
		return 0, err
	}
	receipt, err := p.Payee.Accept(bundle)
	if err != nil {
		return 0, err
	}
	if err := p.Payer.Confirm(receipt); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// OverLink times one payment over an emulated link with cfg: the Noise
// handshake keyed by the payee's pairing request, the payment, the
// receipt and the payer's confirmation.
func (p *Pair) OverLink(ctx context.Context, cfg link.Config, amount uint64) (time.Duration, error) {
	if err := p.beforePay(ctx); err != nil {
		return 0, err
	}
	pair, err := p.resp.Pair()
	if err != nil {
		return 0, err
	}
	req, err := p.Payee.RequestWith(se.RequestParams{Amount: amount, ChannelKey: p.static.PublicKey().Bytes(), Pairing: pair.Secret}, time.Minute)
	if err != nil {
		return 0, err
	}
	a, b := link.Pipe(cfg)
	defer a.Close()
	defer b.Close()
	served := make(chan error, 1)
	go func() {
		s, err := p.resp.Accept(ctx, b)
		if err != nil {
			served <- err
			return
		}
		// The session stays open until the payer hung up: closing it here
		// could drop the receipt's last frames before the link delivered them.
		// Once the receipt is out, the payer hanging up is the normal end.
		if n, err := exchange.Serve(ctx, s, p.Payee.Accept, true); n == 0 {
			served <- fmt.Errorf("no receipt sent: %v", err)
			return
		}
		served <- nil
	}()
	start := time.Now()
	bundle, err := p.Payer.Pay(req, 0)
	if err != nil {
		return 0, err
	}
	s, err := channel.Dial(ctx, a, pair)
	if err != nil {
		return 0, err
	}
	receipt, err := exchange.Pay(ctx, s, bundle)
	s.Close()
	if err != nil {
		return 0, err
	}
	if err := p.Payer.Confirm(receipt); err != nil {
		return 0, err
	}
	d := time.Since(start)
	return d, <-served
}

// Quantiles returns the median and the 99th percentile of ds.
func Quantiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		i := int(math.Ceil(q * float64(len(s)))) // nearest rank
		return s[min(max(i-1, 0), len(s)-1)]
	}
	return at(0.5), at(0.99)
}
