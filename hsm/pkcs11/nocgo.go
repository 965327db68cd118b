//go:build !cgo

package pkcs11

import (
	"crypto"

	"github.com/offpay/offpay/protocol"
)

// Token is a logged-in PKCS#11 token; without cgo there is none.
type Token struct{}

// Key is a private key on a token.
type Key struct {
	alg   protocol.Alg
	pub   []byte
	label string
	id    []byte
}

// Open returns ErrNoCgo: this build cannot load a PKCS#11 module.
func Open(module, label string, pin []byte) (*Token, error) { return nil, fail("open", ErrNoCgo, nil) }

// Label is the token's label.
func (t *Token) Label() string { return "" }

// Module is the path of the token's module.
func (t *Token) Module() string { return "" }

// Close does nothing.
func (t *Token) Close() error { return nil }

// Generate returns ErrNoCgo.
func (t *Token) Generate(alg protocol.Alg, label string) (*Key, error) {
	return nil, fail("generate", ErrNoCgo, nil)
}

// Key returns ErrNoCgo.
func (t *Token) Key(ref KeyRef) (*Key, error) { return nil, fail("find key", ErrNoCgo, nil) }

// Sign returns ErrNoCgo.
func (k *Key) Sign(msg []byte) ([]byte, error) { return nil, fail("sign", ErrNoCgo, nil) }

// Protection returns ErrNoCgo.
func (k *Key) Protection() (Protection, error) {
	return Protection{}, fail("read attributes", ErrNoCgo, nil)
}

// ReadValue returns ErrNoCgo.
func (k *Key) ReadValue() ([]byte, error) { return nil, fail("read attributes", ErrNoCgo, nil) }

// Destroy returns ErrNoCgo.
func (k *Key) Destroy() error { return fail("destroy key", ErrNoCgo, nil) }

// CryptoSigner is nil without cgo.
func (k *Key) CryptoSigner() crypto.Signer { return nil }

// Available reports whether this build can load PKCS#11 modules.
const Available = false
