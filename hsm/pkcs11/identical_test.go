//go:build cgo

package pkcs11

import (
	"crypto/ed25519"
	"fmt"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/offpay/offpay/hsm/pkcs11/softhsmtest"
	"github.com/offpay/offpay/protocol"
)

// An Ed25519 key of a known seed put on the token signs byte for byte
// what the in-process signer signs: CKM_EDDSA is pure Ed25519 (RFC 8032),
// deterministic, and the protocol's ZIP-215 verifier accepts it.
func TestEd25519ByteIdentical(t *testing.T) {
	module := softhsmtest.New(t, "identical", "1234")
	tok, err := Open(module, "identical", []byte("1234"))
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i*7 + 1)
	}
	local := protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}
	s, err := tok.session()
	if err != nil {
		t.Fatal(err)
	}
	id := []byte{1, 2, 3}
	priv, err := tok.ctx.CreateObject(s, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, ckkECEdwards),
		p11.NewAttribute(p11.CKA_TOKEN, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_EC_PARAMS, oidEd25519),
		p11.NewAttribute(p11.CKA_VALUE, seed),
		p11.NewAttribute(p11.CKA_ID, id),
	})
	tok.put(s, false)
	if err != nil {
		t.Fatalf("importing a known Ed25519 key: %v", err)
	}
	k := &Key{t: tok, priv: priv, alg: protocol.AlgEd25519, pub: local.PublicKey(), label: "", id: id}
	for i := range 10 {
		msg := fmt.Appendf(nil, "offpay/1/sync-result %d", i)
		got, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := local.Sign(msg)
		if string(got) != string(want) {
			t.Fatalf("message %d: token %x, in process %x", i, got, want)
		}
		if err := protocol.VerifySignature(protocol.AlgEd25519, local.PublicKey(), msg, got); err != nil {
			t.Fatal(err)
		}
	}
}
