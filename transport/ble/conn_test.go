//go:build ble

package ble

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offpay/offpay/transport/link"
)

// wired returns two conns whose writes are delivered to each other, as the GATT
// characteristics would.
func wired(drop func([]byte) bool) (a, b *conn) {
	a = newConn(23, nil, nil)
	b = newConn(23, nil, nil)
	a.write = func(v []byte) error {
		if !drop(v) {
			b.deliver(v)
		}
		return nil
	}
	b.write = func(v []byte) error { a.deliver(v); return nil }
	return a, b
}

func TestConnFrames(t *testing.T) {
	a, b := wired(func([]byte) bool { return false })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if a.MTU() != 19 {
		t.Fatalf("MTU %d, want 19 (23 - 3 ATT - 1 sequence)", a.MTU())
	}
	for i := range 300 { // wraps the sequence byte
		f := bytes.Repeat([]byte{7}, 1+i%19) // equal frames in a row stay distinct on air
		if err := a.Send(ctx, f); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Recv(ctx); err != nil || !bytes.Equal(got, f) {
			t.Fatalf("frame %d: %x, %v", i, got, err)
		}
	}
	if err := a.Send(ctx, make([]byte, 20)); !errors.Is(err, link.ErrFrameTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if err := a.Send(ctx, nil); !errors.Is(err, ErrEmptyFrame) {
		t.Fatalf("empty: %v", err)
	}
}

func TestConnLostFrame(t *testing.T) {
	n := 0
	a, b := wired(func([]byte) bool { n++; return n == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for range 3 {
		a.Send(ctx, []byte("x"))
	}
	if _, err := b.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Recv(ctx); !errors.Is(err, link.ErrDisconnected) {
		t.Fatalf("after a lost frame: %v", err)
	}
	b.Close()
	if err := b.Send(ctx, []byte("x")); !errors.Is(err, link.ErrDisconnected) && !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Send after failure: %v", err)
	}
}
