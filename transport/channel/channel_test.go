package channel

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/offpay/offpay/transport/link"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func newResponder(t testing.TB, cfg ResponderConfig) *Responder {
	t.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewResponder(k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pair(t testing.TB, r *Responder) Pairing {
	t.Helper()
	p, err := r.Pair()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serve accepts one channel on c and echoes every message; its result is the Accept error.
func serve(ctx context.Context, r *Responder, c link.Conn) <-chan error {
	errc := make(chan error, 1)
	go func() {
		s, err := r.Accept(ctx, c)
		errc <- err
		if err != nil {
			return
		}
		for {
			msg, err := s.Recv(ctx)
			if err != nil {
				return
			}
			if s.Send(ctx, msg) != nil {
				return
			}
		}
	}()
	return errc
}

func fastPipe(mtu int, loss float64, seed uint64) (*link.PipeConn, *link.PipeConn) {
	return link.Pipe(link.Config{ATTMTU: mtu, Loss: loss, Latency: 2 * time.Millisecond,
		TimeScale: 0.02, Rand: mrand.NewPCG(seed, seed)})
}

func TestExchange(t *testing.T) {
	for _, mtu := range []int{23, 247} {
		r := newResponder(t, ResponderConfig{})
		a, b := fastPipe(mtu, 0.1, uint64(mtu))
		ctx := ctxT(t, 20*time.Second)
		acc := serve(ctx, r, b)
		s, err := Dial(ctx, a, pair(t, r))
		if err != nil {
			t.Fatalf("MTU %d: Dial: %v", mtu, err)
		}
		if err := <-acc; err != nil {
			t.Fatalf("MTU %d: Accept: %v", mtu, err)
		}
		for _, n := range []int{0, 1, 300, 5000, MaxMessage} {
			msg := bytes.Repeat([]byte{byte(n)}, n)
			got, err := s.Call(ctx, msg)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("MTU %d: echo of %d bytes: %d bytes, %v", mtu, n, len(got), err)
			}
		}
		if err := s.Send(ctx, make([]byte, MaxMessage+1)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("oversize Send: %v", err)
		}
		s.Close()
	}
}

// dialErr runs a handshake and returns both ends' errors.
func dialErr(t *testing.T, r *Responder, p Pairing) (dialErr, acceptErr error) {
	t.Helper()
	a, b := fastPipe(247, 0, 1)
	defer a.Close()
	ctx := ctxT(t, 5*time.Second)
	acc := serve(ctx, r, b)
	_, dialErr = Dial(ctx, a, p)
	return dialErr, <-acc
}

func TestWrongAndReusedSecret(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	p := pair(t, r)
	wrong := Pairing{StaticPublic: p.StaticPublic, Secret: bytes.Repeat([]byte{7}, 32)}
	if d, a := dialErr(t, r, wrong); !errors.Is(d, ErrUnknownPairing) || !errors.Is(a, ErrUnknownPairing) {
		t.Fatalf("wrong secret: dial %v, accept %v", d, a)
	}
	if d, a := dialErr(t, r, p); d != nil || a != nil {
		t.Fatalf("first use: dial %v, accept %v", d, a)
	}
	if d, a := dialErr(t, r, p); !errors.Is(d, ErrPairingUsed) || !errors.Is(a, ErrPairingUsed) {
		t.Fatalf("reuse: dial %v, accept %v", d, a)
	}
}

func TestSubstitutedStaticKey(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	p := pair(t, r)
	mallory := newResponder(t, ResponderConfig{})
	// The QR's key replaced by Mallory's: the real payee cannot read the handshake.
	forged := Pairing{StaticPublic: mallory.static.PublicKey().Bytes(), Secret: p.Secret}
	if d, a := dialErr(t, r, forged); !errors.Is(d, ErrHandshake) || !errors.Is(a, ErrHandshake) {
		t.Fatalf("substituted key: dial %v, accept %v", d, a)
	}
	// Mallory, knowing the secret but not the payee's private key, answers in its place.
	if err := mallory.add(p.Secret, time.Minute, false); err != nil {
		t.Fatal(err)
	}
	if d, a := dialErr(t, mallory, p); !errors.Is(d, ErrHandshake) || !errors.Is(a, ErrHandshake) {
		t.Fatalf("impostor responder: dial %v, accept %v", d, a)
	}
	// Neither attempt spent the secret.
	if d, a := dialErr(t, r, p); d != nil || a != nil {
		t.Fatalf("genuine use after attacks: dial %v, accept %v", d, a)
	}
}

// recorder keeps every frame sent through it.
type recorder struct {
	link.Conn
	mu   sync.Mutex
	sent [][]byte
}

func (r *recorder) Send(ctx context.Context, f []byte) error {
	r.mu.Lock()
	r.sent = append(r.sent, append([]byte(nil), f...))
	r.mu.Unlock()
	return r.Conn.Send(ctx, f)
}

func TestReplayedFirstMessage(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	a, b := fastPipe(23, 0, 2)
	ctx := ctxT(t, 5*time.Second)
	acc := serve(ctx, r, b)
	rec := &recorder{Conn: a}
	if _, err := Dial(ctx, rec, pair(t, r)); err != nil {
		t.Fatal(err)
	}
	if err := <-acc; err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) < 3 {
		t.Fatalf("first message in %d frames at MTU 23, want at least 3", len(rec.sent))
	}
	a2, b2 := fastPipe(23, 0, 3)
	defer a2.Close()
	acc2 := serve(ctx, r, b2)
	for _, f := range rec.sent {
		if err := a2.Send(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-acc2; !errors.Is(err, ErrPairingUsed) {
		t.Fatalf("replayed first message: %v, want ErrPairingUsed", err)
	}
}

func TestGarbageHandshake(t *testing.T) {
	r := newResponder(t, ResponderConfig{})
	p := pair(t, r)
	id := p.ID()
	cases := map[string][][]byte{
		"empty frame":      {{}},
		"bad kind":         {{0x09, 0, 0, 1, 0}},
		"continuation":     {{kindCont, 1, 2, 3}},
		"oversize":         {{kindHandshake, 0, 1, 1, 1}},
		"data record":      {{kindData, 0, 0, 1, 1}},
		"short":            {{kindHandshake, 0, 0, 3, Version, 1, 2}},
		"bad version":      {append([]byte{kindHandshake, 0, 0, 9, 9}, id[:]...)},
		"truncated noise":  {append([]byte{kindHandshake, 0, 0, 10, Version}, append(id[:], 0)...)},
		"random noise msg": {append(append([]byte{kindHandshake, 0, 0, 57, Version}, id[:]...), bytes.Repeat([]byte{5}, 48)...)},
	}
	for name, frames := range cases {
		a, b := fastPipe(247, 0, 4)
		ctx := ctxT(t, 5*time.Second)
		acc := serve(ctx, r, b)
		for _, f := range frames {
			a.Send(ctx, f)
		}
		err := <-acc
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrHandshake) {
			t.Errorf("%s: Accept error %v", name, err)
		}
		if f, err := a.Recv(ctx); err != nil || len(f) != 5 || f[0] != kindReject {
			t.Errorf("%s: no rejection record: %x %v", name, f, err)
		}
		a.Close()
	}
	// The responder's state survived: the pairing still works, once.
	if d, a := dialErr(t, r, p); d != nil || a != nil {
		t.Fatalf("pairing after garbage: dial %v, accept %v", d, a)
	}
}
