//go:build cgo

package pkcs11_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/offpay/offpay/hsm/pkcs11"
	"github.com/offpay/offpay/hsm/pkcs11/softhsmtest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

const (
	tokenLabel = "offpay-test"
	pin        = "1234-user"
)

var algs = []protocol.Alg{protocol.AlgEd25519, protocol.AlgECDSAP256}

func open(t testing.TB) (*pkcs11.Token, string) {
	t.Helper()
	module := softhsmtest.New(t, tokenLabel, pin)
	tok, err := pkcs11.Open(module, tokenLabel, []byte(pin))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok, module
}

// The token's signatures verify under the protocol's own verifier, for
// raw signing inputs and for signed messages; the crypto.Signer view
// verifies under the standard library.
func TestSignVerify(t *testing.T) {
	tok, _ := open(t)
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k, err := tok.Generate(alg, "key "+alg.String())
			if err != nil {
				t.Fatal(err)
			}
			if err := protocol.CheckCertifiableKey(alg, k.PublicKey()); err != nil {
				t.Fatalf("public key: %v", err)
			}
			for i := range 20 {
				msg := fmt.Appendf(nil, "offpay/1/test message %d", i)
				sig, err := k.Sign(msg)
				if err != nil {
					t.Fatal(err)
				}
				if err := protocol.VerifySignature(alg, k.PublicKey(), msg, sig); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				msg[0] ^= 1
				if protocol.VerifySignature(alg, k.PublicKey(), msg, sig) == nil {
					t.Fatal("a signature verified over another message")
				}
			}
			// A certificate signed by the token, verified as devices verify
			// an issuer under their pinned root.
			root := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleRoot, Serial: 1,
				Issuer: protocol.ComputeKeyID(alg, k.PublicKey()), KeyAlg: alg, Key: k.PublicKey(), NotBefore: 1, NotAfter: 1 << 40}
			if err := root.Sign(k); err != nil {
				t.Fatal(err)
			}
			if _, err := protocol.NewTrust(root); err != nil {
				t.Fatalf("self-signed root from the token refused: %v", err)
			}
			issuer := prototest.Ed25519Key("issuer")
			ic := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleIssuer, Serial: 2, Issuer: root.ID(),
				KeyAlg: issuer.Alg(), Key: issuer.PublicKey(), NotBefore: 1, NotAfter: 1 << 39}
			if err := ic.Sign(k); err != nil {
				t.Fatal(err)
			}
			trust, _ := protocol.NewTrust(root)
			if err := trust.AddIssuer(ic); err != nil {
				t.Fatalf("issuer certified by the token refused: %v", err)
			}
			// crypto.Signer
			cs := k.CryptoSigner()
			msg := []byte("crypto.Signer")
			switch alg {
			case protocol.AlgEd25519:
				sig, err := cs.Sign(nil, msg, crypto.Hash(0))
				if err != nil || !ed25519.Verify(cs.Public().(ed25519.PublicKey), msg, sig) {
					t.Fatalf("crypto.Signer ed25519: %v", err)
				}
			case protocol.AlgECDSAP256:
				d := sha256.Sum256(msg)
				sig, err := cs.Sign(nil, d[:], crypto.SHA256)
				if err != nil || !ecdsa.VerifyASN1(cs.Public().(*ecdsa.PublicKey), d[:], sig) {
					t.Fatalf("crypto.Signer p-256: %v", err)
				}
			}
		})
	}
}

// The keys are token objects that never leave it: sensitive, never
// extractable, and the token refuses their value.
func TestKeysNotExtractable(t *testing.T) {
	tok, _ := open(t)
	for _, alg := range algs {
		k, err := tok.Generate(alg, "sealed")
		if err != nil {
			t.Fatal(err)
		}
		p, err := k.Protection()
		if err != nil {
			t.Fatal(err)
		}
		want := pkcs11.Protection{Token: true, Private: true, Sensitive: true, Extractable: false, AlwaysSensitive: true, NeverExtractable: true}
		if p != want {
			t.Errorf("%v: protection %+v, want %+v", alg, p, want)
		}
		v, err := k.ReadValue()
		if !errors.Is(err, p11.Error(p11.CKR_ATTRIBUTE_SENSITIVE)) {
			t.Errorf("%v: reading the private value: %x, %v; want CKR_ATTRIBUTE_SENSITIVE", alg, v, err)
		}
	}
}

// A token closed and opened again (as ledger serve does) finds its keys
// by reference; a wrong ID is not found.
func TestReopen(t *testing.T) {
	module := softhsmtest.New(t, tokenLabel, pin)
	tok, err := pkcs11.Open(module, tokenLabel, []byte(pin))
	if err != nil {
		t.Fatal(err)
	}
	var refs []pkcs11.KeyRef
	var pubs [][]byte
	for _, alg := range algs {
		k, err := tok.Generate(alg, "issuer")
		if err != nil {
			t.Fatal(err)
		}
		refs, pubs = append(refs, k.Ref()), append(pubs, k.PublicKey())
	}
	if err := tok.Close(); err != nil {
		t.Fatal(err)
	}
	tok, err = pkcs11.Open(module, tokenLabel, []byte(pin))
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	for i, ref := range refs {
		k, err := tok.Key(ref)
		if err != nil {
			t.Fatal(err)
		}
		if string(k.PublicKey()) != string(pubs[i]) {
			t.Fatalf("%s: another public key after reopening", ref.Alg)
		}
		sig, err := k.Sign([]byte("again"))
		if err != nil || protocol.VerifySignature(k.Alg(), pubs[i], []byte("again"), sig) != nil {
			t.Fatalf("%s: signing after reopening: %v", ref.Alg, err)
		}
	}
	closed, err := tok.Key(refs[0])
	if err != nil {
		t.Fatal(err)
	}
	bad := refs[0]
	bad.ID = "00112233"
	if _, err := tok.Key(bad); !errors.Is(err, pkcs11.ErrKeyNotFound) {
		t.Fatalf("a key of another ID: %v, want ErrKeyNotFound", err)
	}
	bad = refs[0]
	bad.Label = "other"
	if _, err := tok.Key(bad); !errors.Is(err, pkcs11.ErrKeyNotFound) {
		t.Fatalf("a key of another label: %v, want ErrKeyNotFound", err)
	}
	tok.Close()
	if _, err := closed.Sign([]byte("after close")); !errors.Is(err, pkcs11.ErrClosed) {
		t.Fatalf("signing after Close: %v, want ErrClosed", err)
	}
}

// A wrong PIN is a typed error that leaves the token as it was; a missing
// token and module are told apart.
func TestOpenErrors(t *testing.T) {
	module := softhsmtest.New(t, tokenLabel, pin)
	tok, err := pkcs11.Open(module, tokenLabel, []byte(pin))
	if err != nil {
		t.Fatal(err)
	}
	k, err := tok.Generate(protocol.AlgEd25519, "kept")
	if err != nil {
		t.Fatal(err)
	}
	ref := k.Ref()
	tok.Close()

	_, err = pkcs11.Open(module, tokenLabel, []byte("wrong-pin"))
	var pe *pkcs11.Error
	if !errors.Is(err, pkcs11.ErrPINIncorrect) || !errors.As(err, &pe) || !errors.Is(err, p11.Error(p11.CKR_PIN_INCORRECT)) {
		t.Fatalf("wrong PIN: %v, want ErrPINIncorrect", err)
	}
	t.Logf("wrong PIN: %v", err)
	if _, err := pkcs11.Open(module, tokenLabel, nil); !errors.Is(err, pkcs11.ErrNoPIN) {
		t.Fatalf("no PIN: %v", err)
	}
	if _, err := pkcs11.Open(module, "no-such-token", []byte(pin)); !errors.Is(err, pkcs11.ErrTokenNotFound) {
		t.Fatalf("missing token: %v", err)
	}
	if _, err := pkcs11.Open("/nonexistent/libnothing.so", tokenLabel, []byte(pin)); !errors.Is(err, pkcs11.ErrModule) {
		t.Fatalf("missing module: %v", err)
	}
	tok, err = pkcs11.Open(module, tokenLabel, []byte(pin))
	if err != nil {
		t.Fatalf("the right PIN after a wrong one: %v", err)
	}
	defer tok.Close()
	// A second Token of a token this process is logged in to would not
	// have its PIN checked: refused, whatever the PIN.
	for _, p := range []string{pin, "wrong-pin"} {
		if _, err := pkcs11.Open(module, tokenLabel, []byte(p)); !errors.Is(err, pkcs11.ErrInUse) {
			t.Fatalf("a second open with PIN %q: %v, want ErrInUse", p, err)
		}
	}
	if _, err := tok.Key(ref); err != nil {
		t.Fatalf("the key after a wrong PIN: %v", err)
	}
}

// Signing from many goroutines at once shares the token's sessions.
func TestConcurrentSign(t *testing.T) {
	tok, _ := open(t)
	for _, alg := range algs {
		k, err := tok.Generate(alg, "busy")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for g := range 16 {
			wg.Go(func() {
				for i := range 25 {
					msg := fmt.Appendf(nil, "%d/%d", g, i)
					sig, err := k.Sign(msg)
					if err == nil {
						err = protocol.VerifySignature(alg, k.PublicKey(), msg, sig)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("%v: %v", alg, err)
		}
	}
}

func softhsmNew(t testing.TB) string { return softhsmtest.New(t, tokenLabel, pin) }
