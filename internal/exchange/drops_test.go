package exchange_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
)

// bleDrops is the reference BLE link (15 ms interval, 244-byte frames) with
// frame loss and random drops, each link seeded from seq, run 20 times
// faster than real time.
func bleDrops(seq *atomic.Uint64, drop float64) func() link.Config {
	return func() link.Config {
		return link.Config{ATTMTU: 247, Interval: 15 * time.Millisecond, Loss: 0.1, DropRate: drop,
			TimeScale: 0.05, Rand: rand.NewPCG(0x0ff9a7, seq.Add(1))}
	}
}

// Request, payment and receipt between real wallets over an emulated BLE
// link that drops at random. The payer retries on resumed sessions. Every
// payment is debited once and credited at most once; a payer that got the
// receipt holds the very receipt the payee issued and has nothing pending;
// one whose retries ran out keeps the payment pending, credited once or
// not at all.
func TestPaymentsOverDroppingLink(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer, payee := x.wallet("alice", 50_000), x.wallet("bob", 0)
	s := newShop(t, payee)
	var seq atomic.Uint64
	dial := s.dialer(bleDrops(&seq, 0.08))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const n, amount = 40, 100
	var bundles, receipts [][]byte
	for i := range n {
		var sess *channel.Session
		var req []byte
		for try := 0; try < 8 && sess == nil; try++ {
			r, pairing := s.request(t, amount)
			c, err := dial(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sess, err = channel.Dial(ctx, c, pairing); err != nil {
				c.Close() // nothing paid yet: scan a new code
				sess = nil
			}
			req = r
		}
		if sess == nil {
			t.Fatalf("payment %d: no channel in 8 tries", i)
		}
		bundle, err := payer.Pay(req, 0)
		if err != nil {
			t.Fatal(err)
		}
		bundles = append(bundles, bundle)
		rc, err := exchange.PayRetry(ctx, sess, dial, bundle, 4)
		if err != nil {
			receipts = append(receipts, nil)
			t.Logf("payment %d: %v", i, err)
			continue
		}
		if err := payer.Confirm(rc); err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, rc)
	}

	var credited, pending uint64
	confirmed := 0
	for i, b := range bundles {
		issued, accepted := payee.Receipt(paymentID(t, b))
		if accepted {
			credited += amount
		}
		if receipts[i] == nil {
			pending += amount
			continue
		}
		confirmed++
		if !accepted || !bytes.Equal(receipts[i], issued) {
			t.Errorf("payment %d: payer's receipt is not the one the payee issued", i)
		}
	}
	ps, qs := status(t, payer), status(t, payee)
	if ps.Available != 50_000-n*amount || ps.Pending != pending {
		t.Errorf("payer: available %d pending %d, want %d and %d", ps.Available, ps.Pending, 50_000-n*amount, pending)
	}
	if qs.Available != credited || uint64(s.srv.Paid())*amount != credited {
		t.Errorf("payee: available %d, accepted %d payments, credited receipts %d", qs.Available, s.srv.Paid(), credited)
	}
	if got := countKind(payee, wallet.KindReceive); got != s.srv.Paid() {
		t.Errorf("payee history has %d receipts, server accepted %d", got, s.srv.Paid())
	}
	// The test is only worth something if drops hit between payment and
	// receipt, and retries got the receipt again.
	if s.repeats.Load() == 0 || confirmed < n*3/4 {
		t.Errorf("seeded drops: %d repeats answered, %d/%d confirmed", s.repeats.Load(), confirmed, n)
	}
	t.Logf("%d payments, %d links, %d retries answered with the same receipt, %d confirmed, %d pending",
		n, seq.Load(), s.repeats.Load(), confirmed, n-confirmed)
}

func countKind(w *wallet.Wallet, k wallet.Kind) int {
	n := 0
	for _, r := range w.History() {
		if r.Kind == k && r.State != wallet.Rejected {
			n++
		}
	}
	return n
}
