package exchange_test

import (
	"bytes"
	"context"
	"errors"
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
	// Both sync: what the payee accepted settles once; what never reached
	// it stays pending, awaiting a claim.
	var unreached uint64
	for _, b := range bundles {
		if _, ok := payee.Receipt(paymentID(t, b)); !ok {
			unreached += amount
		}
	}
	for _, w := range []*wallet.Wallet{payee, payer} {
		if err := w.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ps := status(t, payer); ps.Pending != unreached || countState(payer, wallet.KindPay, wallet.Settled) != n-int(unreached/amount) {
		t.Errorf("after sync: payer pending %d, want %d; %d settled", ps.Pending, unreached, countState(payer, wallet.KindPay, wallet.Settled))
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

// The link drops after the payee accepted the payment and before its
// receipt goes out: the payer resumes, resends the same bundle and gets the
// same receipt; nothing is credited twice, nothing is left pending, and the
// payee has nothing left to wait for.
func TestResumeAfterDropGetsSameReceipt(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer, payee := x.wallet("alice", 5000), x.wallet("bob", 0)
	s := newShop(t, payee)
	var seq atomic.Uint64
	dial := s.dialer(bleDrops(&seq, 0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, pairing := s.request(t, 700)
	c, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := channel.Dial(ctx, c, pairing)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := payer.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.dropNext.Store(true)
	if _, err := exchange.Pay(ctx, sess, bundle); !errors.Is(err, link.ErrDisconnected) {
		t.Fatalf("first attempt: %v, want a drop", err)
	}
	if st := status(t, payer); st.Pending != 700 {
		t.Fatalf("payer after the drop: %+v", st)
	}
	rc, err := exchange.PayRetry(ctx, sess, dial, bundle, 2)
	if err != nil {
		t.Fatal(err)
	}
	issued, ok := payee.Receipt(paymentID(t, bundle))
	if !ok || !bytes.Equal(rc, issued) || s.repeats.Load() != 1 {
		t.Fatalf("retry: same receipt %v, repeats %d", bytes.Equal(rc, issued), s.repeats.Load())
	}
	if err := payer.Confirm(rc); err != nil {
		t.Fatal(err)
	}
	if ps, qs := status(t, payer), status(t, payee); ps.Available != 4300 || ps.Pending != 0 || qs.Available != 700 || s.srv.Paid() != 1 {
		t.Fatalf("payer %+v, payee %+v, paid %d", ps, qs, s.srv.Paid())
	}
	// The payer acknowledged the receipt: the payee waits for nobody.
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	if err := s.srv.Drain(dctx); err != nil || s.srv.Unacked() != 0 {
		t.Fatalf("drain: %v, %d unacknowledged", err, s.srv.Unacked())
	}
	// The first session's resumption was spent by the retry.
	if _, err := exchange.PayRetry(ctx, sess, dial, bundle, 2); !errors.Is(err, channel.ErrPairingUsed) {
		t.Fatalf("second resumption with a spent secret: %v", err)
	}
}

func countState(w *wallet.Wallet, k wallet.Kind, st wallet.State) int {
	n := 0
	for _, r := range w.History() {
		if r.Kind == k && r.State == st {
			n++
		}
	}
	return n
}
