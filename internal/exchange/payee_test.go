package exchange_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
)

// A receipt that was delivered but never acknowledged keeps Drain waiting
// for the payer's retry, for Linger; the payer's resumed session, retry and
// acknowledgement release it at once.
func TestDrainWaitsForUnacknowledgedReceipt(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer, payee := x.wallet("alice", 5000), x.wallet("bob", 0)
	const linger = 400 * time.Millisecond
	s := newShop(t, payee, func(p *exchange.Payee) { p.Linger = linger })
	var seq atomic.Uint64
	dial := s.dialer(bleDrops(&seq, 0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	pay := func() (*channel.Session, []byte) {
		req, pairing := s.request(t, 100)
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
		if _, err := exchange.Pay(ctx, sess, bundle); err != nil {
			t.Fatal(err)
		}
		sess.Close() // the acknowledgement is lost with the link
		return sess, bundle
	}

	// Without a retry, Drain waits Linger.
	pay()
	if s.srv.Unacked() != 1 {
		t.Fatalf("%d receipts unacknowledged, want 1", s.srv.Unacked())
	}
	t0 := time.Now()
	if err := s.srv.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < linger/2 || s.srv.Unacked() != 0 {
		t.Fatalf("drain returned after %v with %d unacknowledged", d, s.srv.Unacked())
	}

	// A retry on the resumed session acknowledges it: Drain returns at once.
	sess, bundle := pay()
	rc, err := exchange.PayRetry(ctx, sess, dial, bundle, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := payer.Confirm(rc); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	if err := s.srv.Drain(ctx); err != nil || time.Since(t0) > linger/2 {
		t.Fatalf("drain after the acknowledged retry: %v after %v", err, time.Since(t0))
	}
	if st := status(t, payer); st.Pending != 100 || s.srv.Paid() != 2 {
		t.Fatalf("payer %+v (the first payment's receipt is lost), paid %d", st, s.srv.Paid())
	}
}

// Links beyond MaxSessions are closed at once; a freed slot serves again.
func TestMaxSessions(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	s := newShop(t, x.wallet("bob", 0), func(p *exchange.Payee) { p.MaxSessions = 1 })
	var seq atomic.Uint64
	dial := s.dialer(bleDrops(&seq, 0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	idle, err := dial(ctx) // holds the only slot, saying nothing
	if err != nil {
		t.Fatal(err)
	}
	_, pairing := s.request(t, 100)
	extra, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := channel.Dial(ctx, extra, pairing); !errors.Is(err, link.ErrDisconnected) && !errors.Is(err, link.ErrClosed) {
		t.Fatalf("link beyond the limit: %v", err)
	}
	idle.Close()
	// The pairing was not spent by the refused link.
	var sess *channel.Session
	for try := 0; sess == nil; try++ {
		c, err := dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sess, err = channel.Dial(ctx, c, pairing); err != nil {
			if try > 20 { // the idle session's slot is freed asynchronously
				t.Fatalf("after the slot was freed: %v", err)
			}
			sess = nil
			time.Sleep(10 * time.Millisecond)
		}
	}
	sess.Close()
}
