package protocol_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

func mustUnhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWeakEd25519KeysRefused checks each refusal of SPEC.md 5.2 step 2 by
// its typed error, in every place a key is used: CheckKey, a single
// verification, a batch (twice, so the batch's key cache is exercised),
// and the enrolment rule, which alone also refuses mixed-order keys.
func TestWeakEd25519KeysRefused(t *testing.T) {
	forgery := make([]byte, protocol.SigSize)
	forgery[0] = 1 // R = identity, S = 0
	msg := []byte("pay 5.00")
	cases := []struct {
		name      string
		key       string
		want      error // from CheckKey and every verification
		enrolWant error // from CheckCertifiableKey
	}{
		{"identity", "0100000000000000000000000000000000000000000000000000000000000000", protocol.ErrKeySmallOrder, protocol.ErrKeySmallOrder},
		{"order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", protocol.ErrKeySmallOrder, protocol.ErrKeySmallOrder},
		{"order 2, x = 0 with the sign bit", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", protocol.ErrKeyNonCanonical, protocol.ErrKeyNonCanonical},
		{"identity as y = p + 1", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", protocol.ErrKeyNonCanonical, protocol.ErrKeyNonCanonical},
		{"mixed order as y = p + 3", "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", protocol.ErrKeyNonCanonical, protocol.ErrKeyNonCanonical},
		{"y = 2, no point", "0200000000000000000000000000000000000000000000000000000000000000", protocol.ErrKeyNotOnCurve, protocol.ErrKeyNotOnCurve},
		{"mixed order (speccheck case 2)", "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43", nil, protocol.ErrKeyMixedOrder},
	}
	for _, c := range cases {
		key := mustUnhex(t, c.key)
		if err := protocol.CheckKey(protocol.AlgEd25519, key); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: CheckKey: %v, want %v", c.name, err, c.want)
		}
		if err := protocol.CheckCertifiableKey(protocol.AlgEd25519, key); !errors.Is(err, c.enrolWant) {
			t.Errorf("%s: CheckCertifiableKey: %v, want %v", c.name, err, c.enrolWant)
		}
		if c.want == nil {
			continue
		}
		if err := protocol.VerifySignature(protocol.AlgEd25519, key, msg, forgery); !errors.Is(err, c.want) {
			t.Errorf("%s: VerifySignature: %v, want %v", c.name, err, c.want)
		}
		b := protocol.NewBatch(2)
		b.Add(protocol.AlgEd25519, key, msg, forgery)
		b.Add(protocol.AlgEd25519, key, msg, forgery)
		for i, err := range b.Verify() {
			if !errors.Is(err, c.want) {
				t.Errorf("%s: batch item %d: %v, want %v", c.name, i, err, c.want)
			}
		}
	}
	// An ordinary key passes every check and the forgery fails under it.
	k := prototest.Ed25519Key("ordinary")
	if err := protocol.CheckCertifiableKey(protocol.AlgEd25519, k.PublicKey()); err != nil {
		t.Fatal(err)
	}
	if err := protocol.VerifySignature(protocol.AlgEd25519, k.PublicKey(), msg, forgery); protocol.ClassOf(err) != protocol.ClassBadSignature {
		t.Fatalf("forgery under an ordinary key: %v", err)
	}
}

// TestLowOrderChannelKeysRefused: X25519 channel keys on which every
// Diffie-Hellman is zero are refused; an ordinary one passes.
func TestLowOrderChannelKeysRefused(t *testing.T) {
	for _, h := range []string{
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	} {
		if err := protocol.CheckChannelKey(mustUnhex(t, h)); protocol.ClassOf(err) != protocol.ClassBadKey {
			t.Errorf("channel key %s: %v, want bad_key", h, err)
		}
	}
	ok := mustUnhex(t, "0900000000000000000000000000000000000000000000000000000000000000") // the base point
	if err := protocol.CheckChannelKey(ok); err != nil {
		t.Fatal(err)
	}
}
