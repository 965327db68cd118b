package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
	"github.com/offpay/offpay/wallet"
)

// TestPhotographedPairingIsADenialOfService pins what the pairing code
// does and does not protect (README, claims table). A passer-by without
// the code cannot open a channel to the payee. Anyone who photographs the
// code can: connecting first spends its one-time secret, and the payer's
// own attempt is then refused before its SE signs anything; the intruder
// gains nothing (it can only pay with its own money, and its garbage is
// refused), and the payee shows a new code. A denial of service, not a
// loss.
func TestPhotographedPairingIsADenialOfService(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pki := prototest.NewPKI("pairing-dos")
	now := time.Unix(int64(prototest.Epoch), 0)
	open := func(name string, serial uint64) *wallet.Wallet {
		dir := filepath.Join(t.TempDir(), name)
		v := setest.New(t, pki, filepath.Join(dir, walletSEDir), name, serial, nil)
		w, err := wallet.Open(v, dir, &wallet.Options{Clock: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	alice, bob := open("alice", 1), open("bob", 2)
	if err := alice.SE().ApplyLoad(pki.Load(alice.SE().Certificate().ID(), 1, 5000, prototest.Epoch)); err != nil {
		t.Fatal(err)
	}
	static, err := channelKey(bob, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPayee(bob, static)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := link.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sctx, stop := context.WithCancel(ctx)
	_, wait := p.serve(sctx, ln, bob.AcceptRetry)
	defer wait()
	defer stop()
	addr := ln.Addr().String()
	req, _, err := p.request(500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var r protocol.PaymentRequest
	if err := protocol.OpenAs(req, &r); err != nil {
		t.Fatal(err)
	}

	// Without the code: refused.
	guess := channel.Pairing{StaticPublic: r.ChannelKey, Secret: bytes.Repeat([]byte{7}, 32)}
	if _, err := dialChannel(ctx, addr, guess); !errors.Is(err, channel.ErrUnknownPairing) {
		t.Fatalf("a passer-by without the code: %v", err)
	}
	// With a photo of the code: the intruder connects first.
	photo := channel.Pairing{StaticPublic: r.ChannelKey, Secret: r.Pairing}
	intruder, err := dialChannel(ctx, addr, photo)
	if err != nil {
		t.Fatalf("the photographed code did not open a channel: %v", err)
	}
	defer intruder.Close()
	aliceBefore, bobBefore := st(t, alice), st(t, bob)
	if _, err := payOverChannel(ctx, alice, req, addr, 0, nil); !errors.Is(err, channel.ErrPairingUsed) {
		t.Fatalf("the payer after the intruder: %v", err)
	}
	if a := st(t, alice); a.SE.Counter != aliceBefore.SE.Counter || a.Available != aliceBefore.Available {
		t.Fatalf("the payer's SE signed although the channel was refused: %+v", a)
	}
	// The intruder's garbage is refused; the payee credits nothing.
	answer, err := intruder.Call(ctx, []byte("not a payment"))
	if err != nil || len(answer) == 0 || answer[0] != 0xFF {
		t.Fatalf("the intruder's garbage was answered %x (%v)", answer, err)
	}
	if b := st(t, bob); b.Available != bobBefore.Available {
		t.Fatalf("the payee was credited by the intruder: %+v", b)
	}
	// The payee shows a new code; the payment goes through.
	req2, _, err := p.request(500, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := payOverChannel(ctx, alice, req2, addr, 0, nil); err != nil {
		t.Fatalf("with a new code: %v", err)
	}
	if b := st(t, bob); b.Available != bobBefore.Available+500 {
		t.Fatalf("payee purse %d, want %d", b.Available, bobBefore.Available+500)
	}
}

func st(t *testing.T, w *wallet.Wallet) wallet.Status {
	t.Helper()
	s, err := w.Status()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
