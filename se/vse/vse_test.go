package vse_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

const now = prototest.Epoch

type fixture struct {
	pki  *prototest.PKI
	a, b *vse.VSE
	dirA string
	dirB string
	seq  map[protocol.KeyID]uint64
}

func newFixture(t *testing.T, o *vse.Options) *fixture {
	t.Helper()
	p := prototest.NewPKI("vse")
	f := &fixture{pki: p, dirA: filepath.Join(t.TempDir(), "a"), dirB: filepath.Join(t.TempDir(), "b"), seq: map[protocol.KeyID]uint64{}}
	f.a = setest.New(t, p, f.dirA, "alice", 10, o)
	f.b = setest.New(t, p, f.dirB, "bob", 11, o)
	return f
}

func (f *fixture) load(t *testing.T, v *vse.VSE, amount uint64) {
	t.Helper()
	f.seq[v.ID()]++
	if err := v.ApplyLoad(f.pki.Load(v.ID(), f.seq[v.ID()], amount, now)); err != nil {
		t.Fatal(err)
	}
}

func request(t *testing.T, v *vse.VSE, amount uint64) *protocol.PaymentRequest {
	t.Helper()
	r, err := v.NewRequest(se.RequestParams{Amount: amount, Expiry: now + 300}, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func status(t testing.TB, v *vse.VSE) se.Status {
	t.Helper()
	st, err := v.Status(now)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// pay runs the whole flow from payer to payee and returns the bundle.
func pay(t *testing.T, from, to *vse.VSE, amount uint64) *protocol.PaymentBundle {
	t.Helper()
	return payAt(t, from, to, amount, now)
}

// payAt is pay at the SEs' time at.
func payAt(t *testing.T, from, to *vse.VSE, amount, at uint64) *protocol.PaymentBundle {
	t.Helper()
	r, err := to.NewRequest(se.RequestParams{Amount: amount, Expiry: at + 300}, at)
	if err != nil {
		t.Fatal(err)
	}
	b, err := from.Pay(r, 0, at)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := to.Receive(b, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := from.ConfirmReceipt(rc, at); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPINTryIsSpentBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	// Kill the process right after the raised failure count is durable and
	// before the PIN is checked (even the right PIN): the try is spent.
	kill := setest.Options(&vse.Options{Hook: func(name string, s atomicfile.Stage) bool {
		return name == vse.TriesFile && s == atomicfile.AfterRename
	}})
	for i := 0; i < 5; i++ {
		if _, err := vse.Open(f.dirA, setest.PIN, kill); !errors.Is(err, atomicfile.ErrCrash) {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	if _, err := vse.Open(f.dirA, setest.PIN, setest.Options(nil)); !errors.Is(err, se.ErrLocked) {
		t.Fatalf("killed tries must count: %v", err)
	}
}

func TestRequestCarriesChannelKeyAndPairingSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ck, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pairing := bytes.Repeat([]byte{7}, protocol.PairingSecretSize)
	addr, err := protocol.TCPAddress(netip.MustParseAddrPort("192.0.2.7:8421"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.b.NewRequest(se.RequestParams{Amount: 5, Expiry: now + 60, ChannelKey: ck.PublicKey().Bytes(), Pairing: pairing, Address: addr}, now)
	if err != nil {
		t.Fatal(err)
	}
	var got protocol.PaymentRequest
	if err := protocol.OpenAs(protocol.Seal(r), &got); err != nil {
		t.Fatal(err)
	}
	if got.Verify() != nil || !bytes.Equal(got.ChannelKey, ck.PublicKey().Bytes()) || !bytes.Equal(got.Pairing, pairing) || !bytes.Equal(got.Address, addr) {
		t.Fatal("channel key, pairing secret and address must be in the signed request")
	}
	if got.Nonce == (protocol.Nonce{}) {
		t.Fatal("no nonce")
	}
	// A pairing secret without a channel key is refused, state unchanged.
	if _, err := f.b.NewRequest(se.RequestParams{Amount: 5, Expiry: now + 60, Pairing: pairing}, now); err == nil {
		t.Fatal("pairing without channel key accepted")
	}
	// So is an address without one.
	before := status(t, f.b)
	if _, err := f.b.NewRequest(se.RequestParams{Amount: 5, Expiry: now + 60, Address: addr}, now); !errors.Is(err, protocol.ErrBadField) {
		t.Fatalf("address without channel key: %v", err)
	}
	if status(t, f.b) != before {
		t.Fatal("a refused request changed the SE")
	}
}
