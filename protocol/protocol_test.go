package protocol_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/transport/qr"
)

type fixture struct {
	pki        *prototest.PKI
	payerKey   protocol.Signer
	payer      *protocol.Certificate
	payeeKey   protocol.Signer
	payee      *protocol.Certificate
	payment    *protocol.Payment
	bundle     *protocol.PaymentBundle
	payeeCheck protocol.PayeeCheck
}

func newFixture(t testing.TB, payerKey protocol.Signer) *fixture {
	t.Helper()
	f := &fixture{pki: prototest.NewPKI("t"), payerKey: payerKey, payeeKey: prototest.Ed25519Key("payee")}
	f.payer = f.pki.Device(f.payerKey, "alice-0001")
	f.payee = f.pki.Device(f.payeeKey, "shop-0001")
	f.payment = &protocol.Payment{
		Version: protocol.Version, Payer: f.payer.ID(), Payee: f.payee.ID(),
		Amount: 1250, Currency: "EUR", Counter: 7, Nonce: protocol.Nonce{1, 2, 3}, Time: prototest.Epoch, Hops: 1,
	}
	if err := f.payment.Sign(f.payerKey); err != nil {
		t.Fatal(err)
	}
	f.bundle = &protocol.PaymentBundle{Payment: *f.payment, Cert: *f.payer}
	f.payeeCheck = protocol.PayeeCheck{
		Trust: f.pki.Trust, RevList: f.pki.RevList, Self: f.payee.ID(), Currency: "EUR",
		MaxRLAge: f.payee.Limits.MaxRevListAge, Now: prototest.Epoch + 60,
	}
	return f
}

func TestBundleRoundTripAndBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  protocol.Signer
	}{{"ed25519", prototest.Ed25519Key("payer")}, {"p256", prototest.P256Key("payer")}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.key)
			env := protocol.Seal(f.bundle)
			if len(env) > protocol.QRBudgetPaymentCert {
				t.Fatalf("payment+certificate envelope is %d bytes, budget %d", len(env), protocol.QRBudgetPaymentCert)
			}
			t.Logf("%s: payment %d bytes, certificate %d bytes, bundle envelope %d bytes",
				tc.name, len(f.payment.Marshal()), len(f.payer.Marshal()), len(env))
			// What a camera reads is the text form (OP1: + base45): it must
			// fit one code of version 13 at level M too.
			if v, err := qr.Version(qr.EncodeText(env), qr.M); err != nil || v > 13 {
				t.Fatalf("bundle text form needs QR version %d at level M (%v); want <= 13", v, err)
			}
			m, err := protocol.Open(env)
			if err != nil {
				t.Fatal(err)
			}
			got := m.(*protocol.PaymentBundle)
			if got.Payment.ID() != f.payment.ID() {
				t.Fatal("payment id changed in round trip")
			}
			if err := protocol.CheckBundle(got, f.payeeCheck); err != nil {
				t.Fatalf("valid bundle refused: %v", err)
			}
		})
	}
}

func TestCheckBundleRefusals(t *testing.T) {
	f := newFixture(t, prototest.Ed25519Key("payer"))
	cases := []struct {
		name  string
		mut   func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck)
		class protocol.Class
	}{
		{"wrong payee", func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck) { pc.Self = protocol.KeyID{9} }, protocol.ClassWrongPayee},
		{"tampered amount", func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck) { b.Payment.Amount++ }, protocol.ClassBadSignature},
		{"expired payer", func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck) {
			pc.Now = b.Cert.NotAfter
			pc.RevList = f.pki.Revoke(pc.Now)
		}, protocol.ClassExpired},
		{"revoked payer", func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck) {
			pc.RevList = f.pki.Revoke(prototest.Epoch, b.Cert.ID())
		}, protocol.ClassRevoked},
		{"stale revocation list", func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck) { pc.Now += pc.MaxRLAge + 1 }, protocol.ClassStaleRevList},
		{"currency", func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck) { pc.Currency = "USD" }, protocol.ClassCurrency},
		{"untrusted", func(b *protocol.PaymentBundle, pc *protocol.PayeeCheck) { pc.Trust = prototest.NewPKI("other").Trust }, protocol.ClassUntrusted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := *f.bundle
			pc := f.payeeCheck
			tc.mut(&b, &pc)
			err := protocol.CheckBundle(&b, pc)
			if protocol.ClassOf(err) != tc.class {
				t.Fatalf("got %v, want class %s", err, tc.class)
			}
			if !errors.Is(err, &protocol.Error{Class: tc.class}) {
				t.Fatal("errors.Is does not match the class sentinel")
			}
		})
	}
}

func TestDecoderRefusesEveryFlippedByte(t *testing.T) {
	f := newFixture(t, prototest.Ed25519Key("payer"))
	env := protocol.Seal(f.bundle)
	for i := range env {
		for _, bit := range []byte{0x01, 0x80} {
			mut := append([]byte{}, env...)
			mut[i] ^= bit
			m, err := protocol.Open(mut)
			if err != nil {
				continue
			}
			b, ok := m.(*protocol.PaymentBundle)
			if !ok {
				continue
			}
			if err := protocol.CheckBundle(b, f.payeeCheck); err == nil {
				t.Fatalf("flipping bit %#x of byte %d gave an accepted payment", bit, i)
			}
		}
	}
}

func TestTrailingAndNonCanonical(t *testing.T) {
	f := newFixture(t, prototest.Ed25519Key("payer"))
	enc := f.payment.Marshal()
	var p protocol.Payment
	if err := protocol.Unmarshal(append(append([]byte{}, enc...), 0), &p); protocol.ClassOf(err) != protocol.ClassTrailingBytes {
		t.Fatalf("trailing byte: %v", err)
	}
	// Re-encode the amount (1250 = 0x19 0x04e2) as a 4-byte integer.
	var nc []byte
	for i := 0; i+2 < len(enc); i++ {
		if enc[i] == 0x19 && enc[i+1] == 0x04 && enc[i+2] == 0xe2 {
			nc = append(append(append([]byte{}, enc[:i]...), 0x1a, 0, 0, 0x04, 0xe2), enc[i+3:]...)
			break
		}
	}
	if nc == nil {
		t.Fatal("amount not found in encoding")
	}
	if err := protocol.Unmarshal(nc, &p); protocol.ClassOf(err) != protocol.ClassNonCanonical {
		t.Fatalf("non-minimal integer: %v", err)
	}
}

func TestBatchAgreesWithSingle(t *testing.T) {
	ed, p := prototest.Ed25519Key("b1"), prototest.P256Key("b2")
	b := protocol.NewBatch(8)
	var want []bool
	for i := 0; i < 6; i++ {
		s := protocol.Signer(ed)
		if i%3 == 2 {
			s = p
		}
		msg := []byte{byte(i)}
		sig, _ := s.Sign(msg)
		if i%2 == 1 {
			msg = []byte{byte(i), 1} // signature no longer matches
		}
		b.Add(s.Alg(), s.PublicKey(), msg, sig)
		want = append(want, protocol.VerifySignature(s.Alg(), s.PublicKey(), msg, sig) == nil)
	}
	for i, err := range b.Verify() {
		if (err == nil) != want[i] {
			t.Fatalf("item %d: batch says %v, single says valid=%v", i, err, want[i])
		}
	}
}

func BenchmarkVerifyEd25519(b *testing.B) {
	k := prototest.Ed25519Key("bench")
	msg := make([]byte, 120)
	sig, _ := k.Sign(msg)
	for b.Loop() {
		if protocol.VerifySignature(protocol.AlgEd25519, k.PublicKey(), msg, sig) != nil {
			b.Fatal("bad")
		}
	}
}

func BenchmarkBatchVerifyEd25519x1024(b *testing.B) {
	k := prototest.Ed25519Key("bench")
	msgs := make([][]byte, 1024)
	sigs := make([][]byte, 1024)
	for i := range msgs {
		msgs[i] = []byte{byte(i), byte(i >> 8)}
		sigs[i], _ = k.Sign(msgs[i])
	}
	bt := protocol.NewBatch(1024)
	for b.Loop() {
		for i := range msgs {
			bt.Add(protocol.AlgEd25519, k.PublicKey(), msgs[i], sigs[i])
		}
		for _, err := range bt.Verify() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*1024)/b.Elapsed().Seconds(), "sigs/s")
}
