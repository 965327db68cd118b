package exchange_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
)

// benchPayments measures, per iteration between real wallets, the handshake
// on a fresh link and then the payment exchange: the payer's SE signs the
// payment, bundle out, the payee's SE checks and countersigns it (and the
// payee saves the receipt), receipt back, acknowledgement sent. With drop,
// the link drops after the payee accepted the payment and before its
// receipt goes out, and the exchange time includes noticing the drop, the
// resumption handshake on a new link and the resent bundle. The emulator
// notices a drop at once and dials at once; a real BLE link takes its
// supervision timeout to notice and some advertising to reconnect.
func benchPayments(b *testing.B, dial func(s *shop) exchange.Dialer, drop bool) {
	x := newWorld(b)
	payer, payee := x.wallet("alice", 50_000), x.wallet("bob", 0)
	s := newShop(b, payee)
	d := dial(s)
	ctx := context.Background()
	var hsAll, exAll []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		if i++; i%40 == 0 { // stay within the offline limits
			syncAll(b, payer, payee)
		}
		req, pairing := s.request(b, 1)
		b.StartTimer()
		t0 := time.Now()
		c, err := d(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sess, err := channel.Dial(ctx, c, pairing)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		bundle, err := payer.Pay(req, 0)
		if err != nil {
			b.Fatal(err)
		}
		s.dropNext.Store(drop)
		rc, err := exchange.PayRetry(ctx, sess, d, bundle, 2)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := payer.Confirm(rc); err != nil {
			b.Fatal(err)
		}
		hsAll, exAll = append(hsAll, t1.Sub(t0)), append(exAll, t2.Sub(t1))
	}
	if drop && s.repeats.Load() != int64(len(exAll)) {
		b.Fatalf("%d retries answered, want %d", s.repeats.Load(), len(exAll))
	}
	b.ReportMetric(ms(median(hsAll)), "handshake-ms")
	b.ReportMetric(ms(median(exAll)), "exchange-ms")
	b.ReportMetric(ms(median(hsAll)+median(exAll)), "total-ms")
}

func syncAll(b *testing.B, ws ...*wallet.Wallet) {
	for _, w := range ws {
		if err := w.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ble is the reference link in real time: 15 ms interval, 244-byte frames.
func ble(s *shop) exchange.Dialer {
	var seq atomic.Uint64
	return s.dialer(func() link.Config {
		cfg := bleDrops(&seq, 0)()
		cfg.Loss, cfg.TimeScale = 0, 1
		return cfg
	})
}

// tcp dials the shop over TCP loopback.
func tcp(s *shop) exchange.Dialer {
	return func(ctx context.Context) (link.Conn, error) {
		l, err := link.Listen("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		accepted := make(chan error, 1)
		go func() {
			c, err := l.Accept(ctx)
			if err == nil {
				drop := func() { c.Close() }
				s.last.Store(&drop)
				s.links <- c
			}
			accepted <- err
		}()
		c, err := link.Dial(ctx, l.Addr().String())
		if err != nil {
			return nil, err
		}
		if err := <-accepted; err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}

func BenchmarkPaymentBLE15ms244(b *testing.B)       { benchPayments(b, ble, false) }
func BenchmarkPaymentBLE15ms244Resume(b *testing.B) { benchPayments(b, ble, true) }
func BenchmarkPaymentTCP(b *testing.B)              { benchPayments(b, tcp, false) }
func BenchmarkPaymentTCPResume(b *testing.B)        { benchPayments(b, tcp, true) }
