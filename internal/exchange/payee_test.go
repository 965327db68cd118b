package exchange_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/se"
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

// A link that never speaks holds no session slot; a handshaken session
// does. Beyond MaxSessions a handshaken session waits for a slot, for
// HandshakeTimeout, and is then closed (counted as Busy); a freed slot
// serves again.
func TestMaxSessions(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer := x.wallet("alice", 5000)
	const wait = 300 * time.Millisecond
	s := newShop(t, x.wallet("bob", 0), func(p *exchange.Payee) { p.MaxSessions = 1; p.HandshakeTimeout = wait })
	var seq atomic.Uint64
	dial := s.dialer(bleDrops(&seq, 0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	session := func() *channel.Session {
		t.Helper()
		_, pairing := s.request(t, 100)
		c, err := dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := channel.Dial(ctx, c, pairing)
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}
	idle, err := dial(ctx) // says nothing: waits for its handshake, holds no session
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	held := session() // holds the only session slot, paying nothing
	extra := session()
	// The extra session waits for the slot, then is closed.
	if _, err := extra.Recv(ctx); !errors.Is(err, link.ErrDisconnected) && !errors.Is(err, link.ErrClosed) {
		t.Fatalf("session beyond the limit: %v", err)
	}
	waitLoad(t, s.srv, func(l exchange.Load) bool { return l.Busy == 1 && l.SlowHandshakes == 1 })
	held.Close()
	// A freed slot serves a payment again (freed asynchronously: the next
	// session may wait for it, within HandshakeTimeout).
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
	if _, err := exchange.PayRetry(ctx, sess, dial, bundle, 1); err != nil {
		t.Fatalf("after the slot was freed: %v", err)
	}
}

// waitLoad waits up to 5 s for the payee's Load to satisfy ok: the
// counters move in the serving goroutines.
func waitLoad(t *testing.T, srv *exchange.Payee, ok func(exchange.Load) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok(srv.Load()) {
		if time.Now().After(deadline) {
			t.Fatalf("load %+v", srv.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSessionEnds: the payee learns how each session ended and which
// pairing opened it: paid; refused; the payer gave up with its reason
// (its purse too small); the payer left without a word.
func TestSessionEnds(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer, payee := x.wallet("alice", 500), x.wallet("bob", 0)
	ends := make(chan exchange.SessionEnd, 8)
	s := newShop(t, payee, func(p *exchange.Payee) { p.Ended = func(e exchange.SessionEnd) { ends <- e } })
	var seq atomic.Uint64
	dial := s.dialer(bleDrops(&seq, 0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func(amount uint64) ([]byte, channel.Pairing, *channel.Session) {
		req, pairing := s.request(t, amount)
		c, err := dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := channel.Dial(ctx, c, pairing)
		if err != nil {
			t.Fatal(err)
		}
		return req, pairing, sess
	}
	next := func(p channel.Pairing) exchange.SessionEnd {
		t.Helper()
		select {
		case e := <-ends:
			if e.Pairing != p.ID() || e.Resumed {
				t.Fatalf("session of pairing %x (resumed %v), want %x", e.Pairing, e.Resumed, p.ID())
			}
			return e
		case <-ctx.Done():
			t.Fatal("no session end")
		}
		return exchange.SessionEnd{}
	}

	req, p, sess := open(100)
	bundle, err := payer.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exchange.PayRetry(ctx, sess, dial, bundle, 1); err != nil {
		t.Fatal(err)
	}
	if e := next(p); !e.Paid || e.Refused != nil || e.GaveUp != "" {
		t.Fatalf("paid session ended %+v", e)
	}

	req, p, sess = open(1000)
	if _, err := payer.Pay(req, 0); !errors.Is(err, se.ErrInsufficientFunds) {
		t.Fatalf("pay beyond the purse: %v", err)
	}
	exchange.GiveUp(ctx, sess, "not enough money in the purse")
	if e := next(p); e.Paid || e.GaveUp != "not enough money in the purse" {
		t.Fatalf("given-up session ended %+v", e)
	}

	_, p, sess = open(50)
	if _, err := exchange.Pay(ctx, sess, []byte{6, 0x80}); !errors.Is(err, exchange.ErrRefused) {
		t.Fatalf("garbage: %v", err)
	}
	sess.Close()
	if e := next(p); e.Paid || e.Refused == nil {
		t.Fatalf("refused session ended %+v", e)
	}

	_, p, sess = open(50)
	sess.Close()
	if e := next(p); e.Paid || e.Refused != nil || e.GaveUp != "" {
		t.Fatalf("silent session ended %+v", e)
	}
}
