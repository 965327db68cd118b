// Package pkcs11 is the adapter of PKCS#11 tokens (hardware security
// modules, SoftHSM2): it keeps the ledger's root and issuer keys inside a
// token and signs offpay messages through it, so that the private keys
// never enter the ledger's memory or its disk.
//
// A Key is a protocol.Signer: the ledger signs certificates, loads,
// revocation lists and sync results with it as with an in-process key.
// Ed25519 signs with CKM_EDDSA (pure Ed25519, the message itself), P-256
// with CKM_ECDSA over a SHA-256 digest computed here, the signature turned
// to the protocol's low-S r||s. Keys are generated on the token as token
// objects, private, sensitive and not extractable.
//
// The binding is github.com/miekg/pkcs11, which needs cgo and loads the
// module with dlopen at run time: a build without cgo compiles, and Open
// then returns ErrNoCgo.
//
// A process holds one Token per token (Open refuses a second, ErrInUse):
// PKCS#11 logs an application in per token, not per session.
package pkcs11

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/offpay/offpay/protocol"
)

// The kinds of failure, matched with errors.Is on what this package
// returns (an *Error).
var (
	// ErrNoCgo: this binary was built without cgo and cannot load a module.
	ErrNoCgo = errors.New("PKCS#11 needs a build of offpay with cgo (CGO_ENABLED=1)")
	// ErrModule: the module could not be loaded or initialised.
	ErrModule = errors.New("cannot load the PKCS#11 module")
	// ErrTokenNotFound: no slot holds a token of that label.
	ErrTokenNotFound = errors.New("no PKCS#11 token with that label")
	// ErrPINIncorrect: the token refused the user PIN (CKR_PIN_INCORRECT).
	ErrPINIncorrect = errors.New("wrong PIN for the PKCS#11 token")
	// ErrPINLocked: the token locked its user PIN after wrong tries.
	ErrPINLocked = errors.New("the PKCS#11 token's PIN is locked")
	// ErrNoPIN: no PIN was given.
	ErrNoPIN = errors.New("no PIN given for the PKCS#11 token")
	// ErrKeyNotFound: no private key of that label and ID on the token,
	// or it is not the key expected.
	ErrKeyNotFound = errors.New("key not found on the PKCS#11 token")
	// ErrUnsupported: an algorithm offpay does not map to a mechanism, or
	// one the token does not offer.
	ErrUnsupported = errors.New("algorithm not supported on the PKCS#11 token")
	// ErrInUse: this process has the token open already (PKCS#11 logs a
	// process in per token: a second login could not check its PIN).
	ErrInUse = errors.New("the PKCS#11 token is open in this process already")
	// ErrClosed: the token was closed.
	ErrClosed = errors.New("the PKCS#11 token is closed")
)

// Error is the error of a token operation: what was done, its kind (one
// of the Err variables) and the module's own error (a CKR_ code), if any.
type Error struct {
	Op   string
	Kind error
	Err  error
}

func (e *Error) Error() string {
	s := "pkcs11 " + e.Op + ": " + e.Kind.Error()
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Unwrap gives errors.Is the kind and the module's error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func fail(op string, kind, err error) error { return &Error{Op: op, Kind: kind, Err: err} }

// KeyRef names a key on a token: what a keys folder records instead of
// the private key.
type KeyRef struct {
	Label string `json:"label"`
	ID    string `json:"id"` // CKA_ID, hex
	Alg   string `json:"alg"`
}

// Ref is the reference of k.
func (k *Key) Ref() KeyRef {
	return KeyRef{Label: k.label, ID: hex.EncodeToString(k.id), Alg: k.alg.String()}
}

// ParseAlg is the protocol algorithm of its name ("ed25519",
// "ecdsa-p256"; "p256" too).
func ParseAlg(s string) (protocol.Alg, error) {
	switch s {
	case "ed25519":
		return protocol.AlgEd25519, nil
	case "ecdsa-p256", "p256", "p-256":
		return protocol.AlgECDSAP256, nil
	}
	return 0, fail("key", ErrUnsupported, fmt.Errorf("algorithm %q (want ed25519 or ecdsa-p256)", s))
}

// Alg implements protocol.Signer.
func (k *Key) Alg() protocol.Alg { return k.alg }

// PublicKey implements protocol.Signer: the protocol's encoding (32
// bytes for Ed25519, the compressed point for P-256).
func (k *Key) PublicKey() []byte { return append([]byte(nil), k.pub...) }

// Label is the key's CKA_LABEL.
func (k *Key) Label() string { return k.label }

// Protection is what the token says of a private key's protection.
type Protection struct {
	Token            bool // CKA_TOKEN: kept on the token, not a session object
	Private          bool // CKA_PRIVATE: only after login
	Sensitive        bool // CKA_SENSITIVE: its value is never revealed in clear
	Extractable      bool // CKA_EXTRACTABLE: it may be wrapped out
	AlwaysSensitive  bool // CKA_ALWAYS_SENSITIVE
	NeverExtractable bool // CKA_NEVER_EXTRACTABLE
}

var _ protocol.Signer = (*Key)(nil)
