package link

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"
)

func tcpPair(t *testing.T, opts ...Option) (*TCPConn, *TCPConn) {
	t.Helper()
	l, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := ctxT(t, 5*time.Second)
	type res struct {
		c   *TCPConn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := l.Accept(ctx); ch <- res{c, err} }()
	a, err := Dial(ctx, l.Addr().String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a, r.c
}

func TestTCPExchange(t *testing.T) {
	a, b := tcpPair(t, WithMTU(512))
	checkOrdered(t, exchange(t, a, b, 100, 512), 512)
	checkOrdered(t, exchange(t, b, a, 10, 0), 0)
	if err := a.Send(context.Background(), make([]byte, 513)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize Send: %v", err)
	}
	checkOrdered(t, exchange(t, a, b, 1, 5), 5)
}

func TestTCPOversizeFromPeer(t *testing.T) {
	l, err := Listen("127.0.0.1:0", WithMTU(100))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := ctxT(t, 5*time.Second)
	go func() {
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return
		}
		defer nc.Close()
		var hdr [2]byte
		binary.BigEndian.PutUint16(hdr[:], 101)
		nc.Write(hdr[:])
		nc.Write(make([]byte, 101))
		time.Sleep(time.Second)
	}()
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Recv(ctx); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize frame from peer: %v", err)
	}
	if err := c.Send(ctx, []byte("x")); err == nil {
		t.Fatal("Send succeeded on a link closed for an oversize frame")
	}
}

func TestTCPClose(t *testing.T) {
	a, b := tcpPair(t)
	ctx := ctxT(t, 5*time.Second)
	if err := a.Send(ctx, []byte("last")); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if f, err := b.Recv(ctx); err != nil || string(f) != "last" {
		t.Fatalf("frame sent before Close: %q, %v", f, err)
	}
	if _, err := b.Recv(ctx); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Recv after peer Close: %v", err)
	}
	if _, err := a.Recv(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv after own Close: %v", err)
	}
}

func TestTCPContext(t *testing.T) {
	a, b := tcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv timeout: %v", err)
	}
	checkOrdered(t, exchange(t, a, b, 3, 7), 7)
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := l.Accept(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Accept timeout: %v", err)
	}
	if _, err := Listen("127.0.0.1:0", WithMTU(70000)); err == nil {
		t.Fatal("MTU over 65535 accepted")
	}
}
