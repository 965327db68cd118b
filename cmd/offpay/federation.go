package main

import (
	"context"
	"sync"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/natsfwd"
	"github.com/offpay/offpay/scheme"
	"github.com/offpay/offpay/scheme/schemehttp"
)

// fedOptions make a serving ledger a provider of a scheme (ledger serve
// --scheme URL --provider NAME --nats URL).
type fedOptions struct {
	scheme, provider, nats string
	every                  time.Duration // how often the statement goes to the scheme and the register is read again
}

func (o fedOptions) on() bool { return o.scheme != "" || o.provider != "" || o.nats != "" }

// startFederation joins svc to the scheme: it installs the register,
// publishes the evidence its settlements queue for other providers,
// settles what they forward to it (both over NATS JetStream), and sends
// the scheme its signed statement and revocation list every o.every,
// reading the register again each time. stop ends it.
func startFederation(ctx context.Context, svc *ledger.Service, o fedOptions, logf func(string, ...any)) (stop func(), err error) {
	if o.scheme == "" || o.provider == "" || o.nats == "" {
		return nil, usageErrorf("--scheme, --provider and --nats go together")
	}
	if o.every <= 0 {
		o.every = 10 * time.Second
	}
	cl := schemehttp.NewClient(o.scheme)
	install := func() error {
		reg, err := cl.Register(ctx)
		if err != nil {
			return err
		}
		root, _ := svc.Trust()
		if string(reg.Root) != string(root.Marshal()) {
			return offpay.Errorf(offpay.EINVALID, "the scheme at %s has another root than this ledger's keys", o.scheme)
		}
		f, err := reg.Federation(o.provider)
		if err != nil {
			return err
		}
		return svc.SetFederation(f)
	}
	if err := install(); err != nil {
		return nil, err
	}
	root, _ := svc.Trust()
	bus, err := natsfwd.Dial(ctx, o.nats, busConfig(root))
	if err != nil {
		return nil, err
	}
	cons, err := bus.Consumer(ctx, o.provider, svc)
	if err != nil {
		bus.Close()
		return nil, err
	}
	cons.Refusal = func(_ []byte, err error) { logf("federation: forwarded evidence refused for good: %v", err) }
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); cons.Run(ctx) }()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			n, err := bus.Publish(ctx, svc, 1000)
			if err != nil && ctx.Err() == nil {
				logf("federation: publishing evidence: %v", err)
			}
			if n == 0 || err != nil {
				sleep(ctx, 200*time.Millisecond)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := pushStatement(ctx, cl, svc, o.provider); err != nil && ctx.Err() == nil {
				logf("federation: statement to the scheme: %v", err)
			}
			if err := install(); err != nil && ctx.Err() == nil {
				logf("federation: register: %v", err)
			}
			sleep(ctx, o.every)
		}
	}()
	return func() { cancel(); wg.Wait(); bus.Close() }, nil
}

func pushStatement(ctx context.Context, cl *schemehttp.Client, svc *ledger.Service, provider string) error {
	ob, err := svc.Obligations(ctx)
	if err != nil {
		return err
	}
	r, err := svc.Report(ctx)
	if err != nil {
		return err
	}
	r.Devices = nil // the scheme needs the totals
	rl, err := svc.RevocationList(ctx)
	if err != nil {
		return err
	}
	return cl.Push(ctx, svc.IssuerSigner(), scheme.Statement{Provider: provider, At: time.Now().UTC(), Obligations: ob, Report: r}, rl)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
