package channel

import (
	"bytes"
	"context"
	"errors"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/offpay/offpay/transport/link"
)

// sessionPair opens a channel and returns the initiator's session, the responder's, and
// the initiator's raw link end for injecting frames.
func sessionPair(t *testing.T, r *Responder, mtu int) (*Session, *Session, *link.PipeConn) {
	t.Helper()
	a, b := fastPipe(mtu, 0, 5)
	t.Cleanup(func() { a.Close() })
	ctx := ctxT(t, 5*time.Second)
	type res struct {
		s   *Session
		err error
	}
	ch := make(chan res, 1)
	go func() { s, err := r.Accept(ctx, b); ch <- res{s, err} }()
	si, err := Dial(ctx, a, pair(t, r))
	if err != nil {
		t.Fatal(err)
	}
	sr := <-ch
	if sr.err != nil {
		t.Fatal(sr.err)
	}
	return si, sr.s, a
}

func TestGarbageAndOversizeRecords(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	si, sr, raw := sessionPair(t, r, 23)
	ctx := ctxT(t, 10*time.Second)
	inject := func(frames ...[]byte) {
		for _, f := range frames {
			if err := raw.Send(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	expect := func(name string, want error) {
		t.Helper()
		if _, err := sr.Recv(ctx); !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", name, err, want)
		}
	}
	inject([]byte{kindData, 0, 0, 17, 1, 2, 3}, append([]byte{kindCont}, bytes.Repeat([]byte{9}, 14)...))
	expect("forged record", ErrCorrupt)
	inject([]byte{kindData, 0x10, 0, 0, 1}, append([]byte{kindCont}, make([]byte, 19)...))
	expect("oversize record", ErrTooLarge)
	inject([]byte{kindHandshake, 0, 0, 1, 1})
	expect("handshake record in session", ErrCorrupt)
	// The skipped oversize record's continuation frames were dropped, and the nonce did not
	// move: the session goes on.
	if err := si.Send(ctx, []byte("payment")); err != nil {
		t.Fatal(err)
	}
	if got, err := sr.Recv(ctx); err != nil || string(got) != "payment" {
		t.Fatalf("after garbage: %q, %v", got, err)
	}
}

func TestRecvTimeout(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	si, sr, _ := sessionPair(t, r, 23)
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := sr.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv timeout: %v", err)
	}
	ctx := ctxT(t, 5*time.Second)
	msg := bytes.Repeat([]byte("x"), 1000)
	if err := si.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if got, err := sr.Recv(ctx); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("after timeout: %d bytes, %v", len(got), err)
	}
}

func TestDisconnectAndResume(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	r := newResponder(t, ResponderConfig{Now: clock, ResumeWindow: time.Minute})
	si, _, raw := sessionPair(t, r, 247)
	ctx := ctxT(t, 5*time.Second)
	raw.Disconnect()
	if _, err := si.Call(ctx, []byte("payment")); !errors.Is(err, link.ErrDisconnected) {
		t.Fatalf("Call on a dropped link: %v", err)
	}
	res, ok := si.Resumption()
	if !ok {
		t.Fatal("no resumption pairing")
	}
	if d, a := dialErr(t, r, res); d != nil || a != nil {
		t.Fatalf("resumption: dial %v, accept %v", d, a)
	}
	if d, a := dialErr(t, r, res); !errors.Is(d, ErrPairingUsed) || !errors.Is(a, ErrPairingUsed) {
		t.Fatalf("resumption reused: dial %v, accept %v", d, a)
	}
	// A resumed session's own resumption secret expires with the window.
	s2, _, _ := sessionPair(t, r, 247)
	res2, _ := s2.Resumption()
	now = now.Add(2 * time.Minute)
	if d, _ := dialErr(t, r, res2); !errors.Is(d, ErrPairingExpired) {
		t.Fatalf("expired resumption: %v", d)
	}
	now = now.Add(time.Hour)
	if d, _ := dialErr(t, r, res2); !errors.Is(d, ErrUnknownPairing) {
		t.Fatalf("long-expired resumption: %v", d)
	}
}

func TestPairingLimits(t *testing.T) {
	now := time.Unix(1000, 0)
	r := newResponder(t, ResponderConfig{Now: func() time.Time { return now }, PairingTTL: time.Minute, MaxPending: 2})
	p := pair(t, r)
	pair(t, r)
	if _, err := r.Pair(); !errors.Is(err, ErrTooManyPairings) {
		t.Fatalf("third pairing: %v", err)
	}
	now = now.Add(90 * time.Second)
	if d, a := dialErr(t, r, p); !errors.Is(d, ErrPairingExpired) || !errors.Is(a, ErrPairingExpired) {
		t.Fatalf("expired pairing: dial %v, accept %v", d, a)
	}
	now = now.Add(time.Minute)
	pair(t, r) // expired entries were swept
}

func FuzzRecordReader(f *testing.F) {
	f.Add([]byte{kindData, 0, 0, 3, 1, 2, 3}, []byte{kindCont, 4})
	f.Add([]byte{kindData, 0, 0, 2, 1}, []byte{kindCont, 4})
	f.Add([]byte{kindHandshake, 0xff, 0xff, 0xff}, []byte{kindCont, 1, 2})
	f.Add([]byte{kindReject, 0, 0, 1, 2}, []byte{})
	f.Fuzz(func(t *testing.T, f1, f2 []byte) {
		r := reader{limit: 64}
		for _, f := range [][]byte{f1, f2, f1} {
			_, body, done, err := r.add(f)
			if done && (err != nil || len(body) > r.limit) {
				t.Fatalf("record of %d bytes, err %v", len(body), err)
			}
			if r.want < 0 || r.skip < 0 || len(r.buf) > r.limit {
				t.Fatalf("bad reader state %+v", r)
			}
		}
	})
}

// TestRetryAfterDrops sends a 300-byte "payment" over links that drop at random, redialing
// with the last session's resumption pairing after each drop, as a wallet would.
func TestRetryAfterDrops(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	p := pair(t, r)
	ctx := ctxT(t, 20*time.Second)
	payment := bytes.Repeat([]byte{0xAB}, 300)
	drops := 0
	for attempt := uint64(0); ; attempt++ {
		if attempt == 50 {
			t.Fatalf("no success in 50 attempts (%d drops)", drops)
		}
		a, b := link.Pipe(link.Config{ATTMTU: 23, DropRate: 0.03, TimeScale: 0.02,
			Rand: mrand.NewPCG(attempt, 42)})
		acc := serve(ctx, r, b)
		s, err := Dial(ctx, a, p)
		if err == nil {
			if next, ok := s.Resumption(); ok {
				p = next
			}
			var got []byte
			if got, err = s.Call(ctx, payment); err == nil {
				if !bytes.Equal(got, payment) {
					t.Fatal("wrong echo")
				}
				a.Close()
				<-acc
				break
			}
		}
		<-acc
		a.Close()
		if !errors.Is(err, link.ErrDisconnected) {
			t.Fatalf("attempt %d: %v, want a drop", attempt, err)
		}
		drops++
	}
	if drops == 0 {
		t.Fatal("no drop happened: the test shows nothing")
	}
	t.Logf("delivered after %d drops", drops)
}

// TestOpenedNamesThePairing: the responder's session names the pairing
// that opened it, and says whether it was a resumption.
func TestOpenedNamesThePairing(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	ctx := ctxT(t, 10*time.Second)
	open := func(p Pairing) (initiator, responder *Session) {
		t.Helper()
		a, b := fastPipe(247, 0, 1)
		got := make(chan *Session, 1)
		go func() { s, _ := r.Accept(ctx, b); got <- s }()
		s, err := Dial(ctx, a, p)
		if err != nil {
			t.Fatal(err)
		}
		return s, <-got
	}
	p := pair(t, r)
	s, rs := open(p)
	if id, resumed := rs.Opened(); id != p.ID() || resumed {
		t.Fatalf("opened by %x resumed %v, want %x", id, resumed, p.ID())
	}
	q, ok := s.Resumption()
	if !ok {
		t.Fatal("no resumption")
	}
	_, rs = open(q)
	if id, resumed := rs.Opened(); id != q.ID() || !resumed {
		t.Fatalf("resumed session: opened by %x resumed %v, want %x", id, resumed, q.ID())
	}
}
