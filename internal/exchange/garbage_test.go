package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
)

// snapshot is what a refused message must not change in a wallet.
type snapshot struct {
	st      wallet.Status
	records int
}

func snap(t *testing.T, w *wallet.Wallet) snapshot {
	return snapshot{status(t, w), len(w.History())}
}

// Garbage and oversize frames and messages injected into a live session
// between real wallets are refused; neither wallet's SE status, balances,
// log counter or history move, the payee counts no payment, and the same
// session then carries a real payment.
func TestGarbageMidSessionChangesNothing(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer, payee := x.wallet("alice", 5000), x.wallet("bob", 0)
	s := newShop(t, payee)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, pairing := s.request(t, 700)
	raw, far := link.Pipe(link.Config{ATTMTU: 247, Interval: 15 * time.Millisecond, TimeScale: 0.05})
	s.links <- far
	sess, err := channel.Dial(ctx, raw, pairing)
	if err != nil {
		t.Fatal(err)
	}
	p0, q0 := snap(t, payer), snap(t, payee)

	// Below the channel: records the payee's session drops (forged,
	// oversize with its continuation frames, a handshake record).
	for _, f := range [][]byte{
		{0x02, 0, 0, 17, 1, 2, 3}, append([]byte{0x00}, bytes.Repeat([]byte{9}, 14)...),
		{0x02, 0x10, 0, 0, 1}, append([]byte{0x00}, make([]byte, 200)...),
		{0x01, 0, 0, 1, 1},
	} {
		if err := raw.Send(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	// Inside the channel: authenticated messages that are no payment.
	request, err := payee.Request(1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for name, msg := range map[string][]byte{
		"garbage":       {0x42, 1, 2, 3},
		"empty":         {},
		"oversize":      bytes.Repeat([]byte{0x07}, channel.MaxMessage),
		"wrong type":    request,
		"fake ack-like": {0xFE, 0},
	} {
		if _, err := exchange.Pay(ctx, sess, msg); !errors.Is(err, exchange.ErrRefused) {
			t.Fatalf("%s: %v, want a refusal", name, err)
		}
	}
	if p1, q1 := snap(t, payer), snap(t, payee); p1 != p0 || q1 != q0 {
		t.Fatalf("refused messages changed state:\npayer %+v\n  was %+v\npayee %+v\n  was %+v", p1, p0, q1, q0)
	}
	if s.srv.Paid() != 0 {
		t.Fatalf("payee counted %d payments", s.srv.Paid())
	}

	// The session goes on: a real payment.
	bundle, err := payer.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := exchange.Pay(ctx, sess, bundle)
	if err != nil {
		t.Fatal(err)
	}
	if err := payer.Confirm(rc); err != nil {
		t.Fatal(err)
	}
	if ps, qs := status(t, payer), status(t, payee); ps.Available != 4300 || ps.Pending != 0 || qs.Available != 700 || s.srv.Paid() != 1 {
		t.Fatalf("after the payment: payer %+v, payee %+v, paid %d", ps, qs, s.srv.Paid())
	}
}
