package protocol_test

import (
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// The signing input of a typical payment is about 120 bytes; the
// benchmarks sign and verify messages of that size.
var benchMsg = make([]byte, 120)

func BenchmarkSignEd25519(b *testing.B) {
	k := prototest.Ed25519Key("bench")
	for b.Loop() {
		if _, err := k.Sign(benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignP256(b *testing.B) {
	k := prototest.P256Key("bench")
	for b.Loop() {
		if _, err := k.Sign(benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyP256(b *testing.B) {
	k := prototest.P256Key("bench")
	sig, err := k.Sign(benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	pub := k.PublicKey() // compressed: each verification decompresses it, as a payee does
	for b.Loop() {
		if err := protocol.VerifySignature(protocol.AlgECDSAP256, pub, benchMsg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenBundle decodes a payment bundle envelope: size check,
// strict CBOR decoding, re-encoding and field checks, no signatures.
func BenchmarkOpenBundle(b *testing.B) {
	f := newFixture(b, prototest.Ed25519Key("payer"))
	env := protocol.Seal(f.bundle)
	b.SetBytes(int64(len(env)))
	for b.Loop() {
		if _, err := protocol.Open(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckBundle is a payee's whole stateless offline check of a
// decoded bundle: chain (one signature), payment (one signature), limits.
func BenchmarkCheckBundle(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  protocol.Signer
	}{{"ed25519", prototest.Ed25519Key("payer")}, {"p256", prototest.P256Key("payer")}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b, tc.key)
			for b.Loop() {
				if err := protocol.CheckBundle(f.bundle, f.payeeCheck); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
