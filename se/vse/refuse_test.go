package vse_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// refused runs op, checks it fails with want, and that no SE's status
// (balance, counters, head hash, limits used) moved.
func refused(t *testing.T, want error, op func() error, vs ...*vse.VSE) {
	t.Helper()
	before := make([]se.Status, len(vs))
	for i, v := range vs {
		before[i] = status(t, v)
	}
	err := op()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	for i, v := range vs {
		if after := status(t, v); after != before[i] {
			t.Fatalf("refusal changed SE %d:\nbefore %+v\nafter  %+v", i, before[i], after)
		}
	}
}

func withLimits(t *testing.T, mut func(*protocol.Limits)) *fixture {
	t.Helper()
	p := prototest.NewPKI("vse")
	mut(&p.Limits)
	f := &fixture{pki: p, dirA: filepath.Join(t.TempDir(), "a"), dirB: filepath.Join(t.TempDir(), "b"), seq: map[protocol.KeyID]uint64{}}
	f.a = setest.New(t, p, f.dirA, "alice", 10, nil)
	f.b = setest.New(t, p, f.dirB, "bob", 11, nil)
	return f
}

func TestPayerRefusals(t *testing.T) {
	t.Parallel()
	t.Run("unacknowledged entries", func(t *testing.T) {
		// Past protocol.MaxUnackedEntries the ledger would take the
		// payment for a broken SE's: the SE refuses it instead.
		f := newFixture(t, nil)
		f.load(t, f.a, 500)
		f.a.SkipCountersForTest(protocol.MaxUnackedEntries - 2) // the load is entry 1: the next is the last allowed
		pay(t, f.a, f.b, 10)
		r := request(t, f.b, 10)
		refused(t, se.LimitErr(se.LimitUnacked), func() error { _, err := f.a.Pay(r, 0, now); return err }, f.a, f.b)
	})
	t.Run("locked after a failed write", func(t *testing.T) {
		f := newFixture(t, nil)
		f.load(t, f.a, 500)
		if err := os.Chmod(f.dirA, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(f.dirA, 0o700)
		if os.Getuid() == 0 {
			t.Skip("root ignores folder permissions")
		}
		if _, err := f.a.Pay(request(t, f.b, 100), 0, now); !errors.Is(err, se.ErrBroken) {
			t.Fatalf("write failure: %v", err)
		}
		if _, err := f.a.Status(now); !errors.Is(err, se.ErrBroken) {
			t.Fatal("a broken SE must refuse until reopened")
		}
	})
}

func TestPayeeRefusals(t *testing.T) {
	t.Parallel()
	t.Run("nonce never issued", func(t *testing.T) {
		f := newFixture(t, nil)
		f.load(t, f.a, 500)
		// The payee's state from before it issued the request: a payment
		// for a nonce it does not know.
		saved := snapshot(t, f.dirB)
		r := request(t, f.b, 100)
		restore(t, f.dirB, saved)
		b2 := setest.Open(t, f.dirB, nil)
		bundle, err := f.a.Pay(r, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		refused(t, se.ErrNonceUnknown, func() error { _, err := b2.Receive(bundle, now); return err }, b2)
	})
	t.Run("flipped byte anywhere", func(t *testing.T) {
		f := newFixture(t, nil)
		f.load(t, f.a, 500)
		bundle, err := f.a.Pay(request(t, f.b, 100), 0, now)
		if err != nil {
			t.Fatal(err)
		}
		wire := protocol.Seal(bundle)
		before := status(t, f.b)
		for i := range wire {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				bad := append([]byte(nil), wire...)
				bad[i] ^= mask
				var got protocol.PaymentBundle
				if err := protocol.OpenAs(bad, &got); err != nil {
					continue
				}
				if _, err := f.b.Receive(&got, now); err == nil {
					t.Fatalf("byte %d ^ %#x accepted", i, mask)
				}
			}
		}
		if status(t, f.b) != before {
			t.Fatal("tampered bundles changed the payee")
		}
		// The genuine one still goes through afterwards.
		if _, err := f.b.Receive(bundle, now); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("payer with a small-order key", func(t *testing.T) {
		// A device certificate for the identity point, as a ledger that
		// did not check keys issued; its holder "signs" with R = identity,
		// S = 0, which the cofactored equation accepts under that key for
		// every message. It loaded nothing and pays 5.00.
		f := newFixture(t, nil)
		mallory := f.pki.Device(forgedKey{}, "mallory")
		r := request(t, f.b, 500)
		p := &protocol.Payment{Version: protocol.Version, Payer: mallory.ID(), Payee: f.b.ID(), Amount: 500,
			Currency: mallory.Currency, Counter: 1, Nonce: r.Nonce, Time: now, Hops: 1}
		if err := p.Sign(forgedKey{}); err != nil {
			t.Fatal(err)
		}
		refused(t, protocol.ErrBadKey, func() error {
			_, err := f.b.Receive(&protocol.PaymentBundle{Payment: *p, Cert: *mallory}, now)
			return err
		}, f.b)
	})
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func restore(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInstallCannotSwapTheRoots: after enrolment the app cannot install
// its own PKI (and then sign itself loads), nor downgrade the certificate.
func TestInstallCannotSwapTheRoots(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rogue := prototest.NewPKI("rogue")
	if _, err := f.a.Enrol("alice", now); !errors.Is(err, se.ErrEnrolled) {
		t.Fatalf("second enrolment: %v", err)
	}
	// The rogue issuer certifies the SE's public key with its own chain.
	cert := f.a.Certificate()
	forged := *cert
	forged.Issuer, forged.Serial = rogue.Issuer.ID(), 99
	if err := forged.Sign(rogue.IssuerKey); err != nil {
		t.Fatal(err)
	}
	refused(t, protocol.ErrUntrusted, func() error {
		return f.a.Install(&forged, setest.Anchors(rogue), rogue.RevList)
	}, f.a)
	refused(t, se.ErrBadLoad, func() error { return f.a.ApplyLoad(rogue.Load(f.a.ID(), 1, 1000, now)) }, f.a)
	// An older certificate of the right PKI is refused too.
	older := *cert
	older.NotBefore--
	if err := older.Sign(f.pki.IssuerKey); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrBadRequest, func() error { return f.a.Install(&older, setest.Anchors(f.pki), f.pki.RevList) }, f.a)
}

// forgedKey is the identity point as an Ed25519 key, and the signature
// R = identity, S = 0 that verifies every message under it under the bare
// ZIP-215 equation.
type forgedKey struct{}

func (forgedKey) Alg() protocol.Alg { return protocol.AlgEd25519 }
func (forgedKey) PublicKey() []byte {
	k := make([]byte, 32)
	k[0] = 1
	return k
}
func (forgedKey) Sign([]byte) ([]byte, error) {
	sig := make([]byte, protocol.SigSize)
	sig[0] = 1
	return sig, nil
}
