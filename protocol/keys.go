package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"

	"github.com/oasisprotocol/curve25519-voi/curve"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Alg names a signature algorithm.
type Alg uint8

// The signature algorithms. Ed25519 is the default; ECDSA P-256 with SHA-256
// is what most hardware secure elements and smart cards speak.
const (
	AlgEd25519   Alg = 1
	AlgECDSAP256 Alg = 2
)

func (a Alg) String() string {
	switch a {
	case AlgEd25519:
		return "ed25519"
	case AlgECDSAP256:
		return "ecdsa-p256"
	}
	return "unknown"
}

// KeySize is the public key size of alg: 32 for Ed25519, 33 (SEC 1
// compressed point) for P-256. SigSize is 64 for both (P-256: r||s).
func KeySize(a Alg) int {
	switch a {
	case AlgEd25519:
		return ed25519.PublicKeySize
	case AlgECDSAP256:
		return 33
	}
	return 0
}

// SigSize is the size of a signature of alg.
const SigSize = 64

// KeyIDSize is the size of a KeyID.
const KeyIDSize = 16

// KeyID names a public key: the first 16 bytes of SHA-256(alg || key).
// A device's ID is the KeyID of its SE key.
type KeyID [KeyIDSize]byte

// HashSize is the size of a Hash.
const HashSize = 32

// Hash is a SHA-256 digest.
type Hash [HashSize]byte

// String is the lower-case hex form.
func (k KeyID) String() string { return hex.EncodeToString(k[:]) }

// String is the lower-case hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether k is all zeros.
func (k KeyID) IsZero() bool { return k == KeyID{} }

// ParseKeyID parses the hex form of a KeyID.
func ParseKeyID(s string) (KeyID, error) {
	var k KeyID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != KeyIDSize {
		return k, errf(ClassBadField, "key id must be %d hex bytes", KeyIDSize)
	}
	copy(k[:], b)
	return k, nil
}

// ComputeKeyID returns the KeyID of a public key.
func ComputeKeyID(a Alg, key []byte) KeyID {
	h := sha256.New()
	h.Write([]byte{byte(a)})
	h.Write(key)
	var id KeyID
	copy(id[:], h.Sum(nil))
	return id
}

// Signer is what signs offpay messages: a key inside a secure element, or
// the ledger's issuer key.
type Signer interface {
	Alg() Alg
	PublicKey() []byte
	// Sign signs msg itself (not a digest); msg is a signing input.
	Sign(msg []byte) ([]byte, error)
}

// Ed25519Signer signs with an Ed25519 private key.
type Ed25519Signer struct{ Key ed25519.PrivateKey }

// Alg implements Signer.
func (s Ed25519Signer) Alg() Alg { return AlgEd25519 }

// PublicKey implements Signer.
func (s Ed25519Signer) PublicKey() []byte { return []byte(s.Key.Public().(ed25519.PublicKey)) }

// Sign implements Signer.
func (s Ed25519Signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.Key, msg), nil }

// P256Signer signs with an ECDSA P-256 key, emitting r||s with low s.
type P256Signer struct{ Key *ecdsa.PrivateKey }

// Alg implements Signer.
func (s P256Signer) Alg() Alg { return AlgECDSAP256 }

// PublicKey implements Signer: the SEC 1 compressed point.
func (s P256Signer) PublicKey() []byte {
	u, err := s.Key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	out := make([]byte, 33)
	out[0] = 0x02 | u[64]&1
	copy(out[1:], u[1:33])
	return out
}

// p256Public decompresses a SEC 1 compressed P-256 point.
func p256Public(key []byte) (*ecdsa.PublicKey, error) {
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), key)
	if x == nil {
		return nil, errf(ClassBadKey, "p-256 key is not a compressed point on the curve")
	}
	u := make([]byte, 65)
	u[0] = 4
	x.FillBytes(u[1:33])
	y.FillBytes(u[33:])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), u)
	if err != nil {
		return nil, errf(ClassBadKey, "p-256 key: %v", err)
	}
	return pub, nil
}

var p256Order = elliptic.P256().Params().N
var p256HalfOrder = new(big.Int).Rsh(p256Order, 1)

// Sign implements Signer.
func (s P256Signer) Sign(msg []byte) ([]byte, error) {
	d := sha256.Sum256(msg)
	r, ss, err := ecdsa.Sign(rand.Reader, s.Key, d[:])
	if err != nil {
		return nil, err
	}
	if ss.Cmp(p256HalfOrder) > 0 {
		ss.Sub(p256Order, ss)
	}
	sig := make([]byte, SigSize)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return sig, nil
}

// NewEd25519Signer makes a fresh Ed25519 key.
func NewEd25519Signer() Ed25519Signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return Ed25519Signer{Key: k}
}

// NewP256Signer makes a fresh P-256 key.
func NewP256Signer() P256Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return P256Signer{Key: k}
}

// zip215 is the one Ed25519 signature equation of offpay (SPEC.md 5.3):
// ZIP-215, cofactored, accepting non-canonical and small-order R, rejecting
// S >= L. Batch verification uses the same equation, so a payee offline and
// the ledger in a batch always agree. ZIP-215 accepts every A too; offpay
// refuses a public key before it reaches the equation (CheckKey).
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// The refusals of an Ed25519 public key (SPEC.md 5.2), all of class bad_key.
// errors.Is matches them by class and detail.
var (
	// ErrKeyNotOnCurve: 32 bytes that decode to no Edwards25519 point.
	ErrKeyNotOnCurve = &Error{Class: ClassBadKey, Detail: "ed25519 key is not a point on the curve"}
	// ErrKeyNonCanonical: a point written in a second spelling (y >= p,
	// or x = 0 with the sign bit set).
	ErrKeyNonCanonical = &Error{Class: ClassBadKey, Detail: "ed25519 key is not the canonical encoding of its point"}
	// ErrKeySmallOrder: one of the 8 points of order dividing 8. Under the
	// cofactored equation every such key accepts forgeries (R = identity,
	// S = 0 verifies any message), so no verifier may accept one.
	ErrKeySmallOrder = &Error{Class: ClassBadKey, Detail: "ed25519 key has small order"}
	// ErrKeyMixedOrder: a point outside the prime-order subgroup. Refused
	// only where a key is certified (EnrolmentRequest): no honest key
	// generator makes one.
	ErrKeyMixedOrder = &Error{Class: ClassBadKey, Detail: "ed25519 key is not in the prime-order subgroup"}
)

// decodeEd25519Key decodes an Ed25519 public key and applies the rules of
// SPEC.md 5.2 step 2: 32 bytes, a point, canonically encoded, not of small
// order. It costs one decompression (about 2 µs), no scalar multiplication.
func decodeEd25519Key(key []byte) (*curve.EdwardsPoint, error) {
	if len(key) != ed25519.PublicKeySize {
		return nil, errf(ClassBadKey, "ed25519 key is %d bytes", len(key))
	}
	var enc curve.CompressedEdwardsY
	copy(enc[:], key)
	var p curve.EdwardsPoint
	if _, err := p.SetCompressedY(&enc); err != nil {
		return nil, ErrKeyNotOnCurve
	}
	// voi decodes y >= p and "negative zero" too; the canonical encoding
	// is the one the point re-encodes to.
	var re curve.CompressedEdwardsY
	if re.SetEdwardsPoint(&p); re != enc {
		return nil, ErrKeyNonCanonical
	}
	if p.IsSmallOrder() {
		return nil, ErrKeySmallOrder
	}
	return &p, nil
}

// CheckKey checks that key is an acceptable public key of alg (SPEC.md 5.2
// step 2): for Ed25519, 32 bytes canonically encoding a point not of small
// order; for P-256, a compressed point on the curve. Every decoder of a key
// (certificates, enrolment requests) and every verification applies it.
func CheckKey(a Alg, key []byte) error {
	switch a {
	case AlgEd25519:
		_, err := expandEd25519(key)
		return err
	case AlgECDSAP256:
		if len(key) != 33 {
			return errf(ClassBadKey, "p-256 key is %d bytes, want 33 (compressed)", len(key))
		}
		_, err := p256Public(key)
		return err
	}
	return errf(ClassUnknownAlg, "algorithm %d", a)
}

// CheckCertifiableKey is CheckKey and, for Ed25519, that the point lies in
// the prime-order subgroup (SPEC.md 7.12): what the ledger requires of a
// key before it certifies it. The subgroup check is a scalar multiplication
// (about 25 µs), which is why decoders of certificates do not repeat it.
func CheckCertifiableKey(a Alg, key []byte) error {
	if a != AlgEd25519 {
		return CheckKey(a, key)
	}
	p, err := decodeEd25519Key(key)
	if err != nil {
		return err
	}
	if !p.IsTorsionFree() {
		return ErrKeyMixedOrder
	}
	return nil
}

// VerifySignature verifies sig over msg under (alg, key) with offpay's rules.
func VerifySignature(a Alg, key, msg, sig []byte) error {
	if a == AlgEd25519 {
		epk, err := expandEd25519(key) // CheckKey's
		if err != nil {
			return err
		}
		if len(sig) != SigSize {
			return errf(ClassBadSignature, "signature is %d bytes", len(sig))
		}
		if !voi.VerifyExpandedWithOptions(epk, msg, sig, zip215) {
			return errf(ClassBadSignature, "ed25519 signature does not verify")
		}
		return nil
	}
	if err := CheckKey(a, key); err != nil {
		return err
	}
	if len(sig) != SigSize {
		return errf(ClassBadSignature, "signature is %d bytes", len(sig))
	}
	switch a {
	case AlgECDSAP256:
		pub, err := p256Public(key)
		if err != nil {
			return err
		}
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		if s.Cmp(p256HalfOrder) > 0 {
			return errf(ClassBadSignature, "ecdsa signature has high s")
		}
		d := sha256.Sum256(msg)
		if !ecdsa.Verify(pub, d[:], r, s) {
			return errf(ClassBadSignature, "ecdsa signature does not verify")
		}
		return nil
	}
	return errf(ClassUnknownAlg, "algorithm %d", a)
}

// ChannelKeySize is the size of an X25519 public key in a PaymentRequest.
const ChannelKeySize = 32

// lowOrderProbe is a fixed X25519 private key used to test channel keys.
// Any clamped scalar is a multiple of the cofactor 8 and never a multiple
// of the prime order, so its product with a point is zero exactly when the
// point has low order.
var lowOrderProbe = func() *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		panic(err)
	}
	return k
}()

// CheckChannelKey checks an X25519 public key: 32 bytes that are not a
// low-order point, on which every Diffie-Hellman gives the all-zero secret
// (RFC 7748 section 6.1). A payer could not open a channel to such a key.
func CheckChannelKey(key []byte) error {
	pub, err := ecdh.X25519().NewPublicKey(key)
	if err != nil {
		return errf(ClassBadKey, "channel key: %v", err)
	}
	if _, err := lowOrderProbe.ECDH(pub); err != nil {
		return errf(ClassBadKey, "channel key is a low-order point")
	}
	return nil
}
