package exchange_test

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
)

// tcpListener is a link.Listener as an exchange.Listener.
type tcpListener struct{ ln *link.Listener }

func (l tcpListener) Accept(ctx context.Context) (link.Conn, error) { return l.ln.Accept(ctx) }

// serveTCP serves the shop's wallet on a loopback TCP listener with a Payee
// of its own (Serve, as offpay pos run does), and returns its address.
func serveTCP(t *testing.T, s *shop, configure ...func(*exchange.Payee)) (string, *exchange.Payee) {
	t.Helper()
	ln, err := link.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := exchange.NewPayee(s.resp, s.w.AcceptRetry)
	for _, f := range configure {
		f(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, tcpListener{ln})
	}()
	t.Cleanup(func() { cancel(); ln.Close(); <-done })
	return ln.Addr().String(), srv
}

// idle opens n TCP connections to addr that never send a byte.
func idle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	cs := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	t.Cleanup(func() {
		for _, c := range cs {
			c.Close()
		}
	})
	return cs
}

// payTCP pays amount from payer to the shop over TCP, handshake included,
// and returns how long it took.
func payTCP(t *testing.T, s *shop, payer *wallet.Wallet, addr string, amount uint64) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, pairing := s.request(t, amount)
	t0 := time.Now()
	c, err := link.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := channel.Dial(ctx, c, pairing)
	if err != nil {
		t.Fatalf("handshake after %v: %v", time.Since(t0), err)
	}
	bundle, err := payer.Pay(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(ctx context.Context) (link.Conn, error) { return link.Dial(ctx, addr) }
	rc, err := exchange.PayRetry(ctx, sess, dial, bundle, 2)
	if err != nil {
		t.Fatalf("payment after %v: %v", time.Since(t0), err)
	}
	d := time.Since(t0)
	if err := payer.Confirm(rc); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestIdleLinksDoNotBlockPayers: idle TCP connections, more than the
// session limit and then more than the handshake pool, do not keep a real
// payer from paying promptly over loopback; the terminal counts what it
// shed. (Before the pools, 16 idle connections held every slot for the
// one-minute session timeout, and every payer's link was closed at once.)
func TestIdleLinksDoNotBlockPayers(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer, payee := x.wallet("alice", 5000), x.wallet("bob", 0)
	s := newShop(t, payee)
	addr, srv := serveTCP(t, s) // the defaults: 64 waiting, 16 sessions, 5 s handshakes
	const prompt = 2 * time.Second

	idle(t, addr, 2*exchange.DefaultMaxSessions) // twice the sessions, within the pool
	if d := payTCP(t, s, payer, addr, 100); d > prompt {
		t.Fatalf("payment behind %d idle links took %v", 2*exchange.DefaultMaxSessions, d)
	}
	if l := srv.Load(); l.Shed != 0 || l.Busy != 0 {
		t.Fatalf("load %+v: nothing should have been shed", l)
	}

	idle(t, addr, 3*exchange.DefaultMaxHandshakes) // beyond the pool: the oldest go
	if d := payTCP(t, s, payer, addr, 200); d > prompt {
		t.Fatalf("payment behind %d idle links took %v", 3*exchange.DefaultMaxHandshakes, d)
	}
	waitLoad(t, srv, func(l exchange.Load) bool { return l.Shed > 0 })
	if st := status(t, payee); st.Available != 300 || srv.Paid() != 2 {
		t.Fatalf("payee %+v, paid %d", st, srv.Paid())
	}
}

// TestSlowHandshakeIsCut: a link that trickles its first handshake record
// a byte at a time (slow loris) is closed at HandshakeTimeout, counted, and
// a payer meanwhile pays.
func TestSlowHandshakeIsCut(t *testing.T) {
	t.Parallel()
	x := newWorld(t)
	payer, payee := x.wallet("alice", 5000), x.wallet("bob", 0)
	s := newShop(t, payee)
	const timeout = 300 * time.Millisecond
	addr, srv := serveTCP(t, s, func(p *exchange.Payee) { p.HandshakeTimeout = timeout })

	// The payee's clock for the handshake starts when it accepts the link,
	// which can be before Dial returns here: count from before the dial.
	t0 := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan time.Duration, 2)
	go func() {
		// A frame of 60 bytes announced, then one byte every 50 ms: it
		// would take 3 s to finish.
		var hdr [2]byte
		binary.BigEndian.PutUint16(hdr[:], 60)
		if _, err := c.Write(hdr[:]); err != nil {
			closed <- time.Since(t0)
			return
		}
		for range 60 {
			time.Sleep(50 * time.Millisecond)
			if _, err := c.Write([]byte{1}); err != nil {
				break
			}
		}
		closed <- 0
	}()
	go func() {
		// The payee never answers; a read ends when it closes the link.
		_, _ = c.Read(make([]byte, 1))
		closed <- time.Since(t0)
	}()
	payTCP(t, s, payer, addr, 100)
	select {
	case d := <-closed:
		if d == 0 || d < timeout || d > timeout+2*time.Second {
			t.Fatalf("slow handshake closed after %v (0: not closed), want about %v", d, timeout)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow handshake not cut")
	}
	waitLoad(t, srv, func(l exchange.Load) bool { return l.SlowHandshakes == 1 })
}
