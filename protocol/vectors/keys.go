package vectors

import (
	"crypto/sha512"
	"fmt"
	"math/big"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	"github.com/offpay/offpay/protocol"
)

// Public keys a verifier must refuse (SPEC.md 5.2 step 2) and the
// signatures that make them dangerous. Under the cofactored ZIP-215
// equation a key of small order accepts R = identity, S = 0 for every
// message: whoever enrols such a key signs anything without a secret.
//
// Point arithmetic here is curve25519-voi's; the generator only picks
// scalars and encodings.

// identityForgery is R = identity (0x01, then zeros), S = 0: a signature of
// every message under every small-order key.
func identityForgery() []byte {
	sig := make([]byte, protocol.SigSize)
	sig[0] = 1
	return sig
}

// fixedSigner "signs" with a fixed signature under a key nobody holds.
type fixedSigner struct{ key, sig []byte }

func (f fixedSigner) Alg() protocol.Alg               { return protocol.AlgEd25519 }
func (f fixedSigner) PublicKey() []byte               { return f.key }
func (f fixedSigner) Sign(msg []byte) ([]byte, error) { return f.sig, nil }

// forger holds a small-order key and the identity forgery.
func forger(key []byte) fixedSigner { return fixedSigner{key: key, sig: identityForgery()} }

// rawSigner signs as RFC 8032 does with the secret of seed, but hashes the
// key bytes pub given (which need not be seed's own public key) and may use
// a chosen R (then with nonce 0). It makes signatures honest signers never
// make: under a mixed-order alias of their key, or with a small-order R.
type rawSigner struct {
	seed, pub []byte
	r         []byte // nil: the ordinary deterministic nonce
}

func (s rawSigner) Alg() protocol.Alg { return protocol.AlgEd25519 }
func (s rawSigner) PublicKey() []byte { return s.pub }
func (s rawSigner) Sign(msg []byte) ([]byte, error) {
	h := sha512.Sum512(s.seed)
	clamped := append([]byte{}, h[:32]...)
	clamped[0] &= 248
	clamped[31] &= 127
	clamped[31] |= 64
	a, err := scalar.NewFromBytesModOrder(clamped)
	must(err)
	r := scalar.New()
	rBytes := s.r
	if rBytes == nil {
		rh := sha512.Sum512(append(append([]byte{}, h[32:]...), msg...))
		r, err = scalar.NewFromBytesModOrderWide(rh[:])
		must(err)
		var R curve.EdwardsPoint
		R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, r)
		rBytes = encode(&R)
	}
	kh := sha512.New()
	kh.Write(rBytes)
	kh.Write(s.pub)
	kh.Write(msg)
	k, err := scalar.NewFromBytesModOrderWide(kh.Sum(nil))
	must(err)
	S := scalar.New().Mul(k, a)
	S.Add(S, r)
	sig := append([]byte{}, rBytes...)
	sb := make([]byte, 32)
	must(S.ToBytes(sb))
	return append(sig, sb...), nil
}

func decodePoint(b []byte) *curve.EdwardsPoint {
	var c curve.CompressedEdwardsY
	_, err := c.SetBytes(b)
	must(err)
	var p curve.EdwardsPoint
	_, err = p.SetCompressedY(&c)
	must(err)
	return &p
}

func encode(p *curve.EdwardsPoint) []byte {
	var c curve.CompressedEdwardsY
	c.SetEdwardsPoint(p)
	return append([]byte{}, c[:]...)
}

// smallOrder describes one of the 14 encodings of the 8 points of small
// order: the distinct A values of the ZIP-215 vectors, in order of first
// appearance.
type smallOrder struct {
	enc      []byte
	order    int
	spelling string
}

func smallOrderEncodings() []smallOrder {
	var zc [][2]string
	readGzipJSON("zip215.json.gz", &zc)
	seen := map[string]bool{}
	var out []smallOrder
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	for _, c := range zc {
		if seen[c[0]] {
			continue
		}
		seen[c[0]] = true
		b := mustHex(c[0])
		pt := decodePoint(b)
		order := 1
		for q := *pt; !q.IsIdentity(); q.Add(&q, &q) {
			order *= 2
		}
		spelling := "canonical"
		if string(encode(pt)) != string(b) {
			le := append([]byte{}, b...)
			le[31] &= 0x7f
			for i, j := 0, 31; i < j; i, j = i+1, j-1 {
				le[i], le[j] = le[j], le[i]
			}
			if new(big.Int).SetBytes(le).Cmp(p) >= 0 {
				spelling = "non-canonical: y >= p"
			} else {
				spelling = "non-canonical: x = 0 with the sign bit set"
			}
		}
		out = append(out, smallOrder{enc: b, order: order, spelling: spelling})
	}
	if len(out) != 14 {
		panic("vectors: ZIP-215 set no longer has 14 small-order encodings")
	}
	return out
}

// The two points of order 8 with canonical encodings used below, and a
// non-canonical encoding (y = p + 3) of a point that is not of small order.
var (
	order8              = mustHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	nonCanonicalMixed   = mustHex("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	notOnCurve25519     = mustHex("0200000000000000000000000000000000000000000000000000000000000000")
	identityKey         = mustHex("0100000000000000000000000000000000000000000000000000000000000000")
	identityNonCanon    = mustHex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f") // y = p + 1
	lowOrderX25519Zero  = make([]byte, 32)
	lowOrderX25519Eight = mustHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
)

// mixedAlias is the payer's key plus a point of order 8: a mixed-order key
// whose signatures (by the payer's secret, rawSigner) verify under ZIP-215.
func (w *world) mixedAlias() rawSigner {
	seed := w.payerKey.(protocol.Ed25519Signer).Key.Seed()
	var sum curve.EdwardsPoint
	sum.Add(decodePoint(w.payerKey.PublicKey()), decodePoint(order8))
	return rawSigner{seed: seed, pub: encode(&sum)}
}

// keyVectors: refused public keys in raw verifications and in every
// message that carries a key, and the signature rule's R side kept.
func (w *world) keyVectors() []Vector {
	var vs []Vector
	msg := []byte("offpay")
	raw := func(name, desc string, key, sig []byte, class protocol.Class) {
		vs = append(vs, sigVector(name, "ed25519", desc, key, msg, sig, class))
	}
	raw("ed25519-key-identity-forgery", "The identity point as the key with R = identity, S = 0: the cofactored equation holds for every message, so the key is refused (small order).",
		identityKey, identityForgery(), protocol.ClassBadKey)
	for i, so := range smallOrderEncodings() {
		raw(fmt.Sprintf("ed25519-key-small-order-%02d", i),
			fmt.Sprintf("A point of order %d as the key (%s) with R = identity, S = 0, which it accepts for every message: refused.", so.order, so.spelling),
			so.enc, identityForgery(), protocol.ClassBadKey)
	}
	raw("ed25519-key-non-canonical", "The key y = p + 3 (a point of mixed order written with y >= p): refused as non-canonical.",
		nonCanonicalMixed, identityForgery(), protocol.ClassBadKey)
	raw("ed25519-key-not-on-curve", "The key y = 2, for which x^2 has no square root: no point, refused as a key.",
		notOnCurve25519, identityForgery(), protocol.ClassBadKey)
	mixed := w.mixedAlias()
	sig, err := mixed.Sign(msg)
	must(err)
	raw("ed25519-key-mixed-order-valid", "The payer's key plus a point of order 8 (mixed order), signed with the payer's secret: a verifier accepts it (the cofactored equation ignores the torsion part); only an EnrolmentRequest refuses such a key (SPEC 7.12).",
		mixed.pub, sig, "")
	raw("ed25519-identity-forgery-ordinary-key", "R = identity, S = 0 under an ordinary key: it does not verify.",
		w.payerKey.PublicKey(), identityForgery(), protocol.ClassBadSignature)
	seed := w.payerKey.(protocol.Ed25519Signer).Key.Seed()
	for i, so := range smallOrderEncodings() {
		s := rawSigner{seed: seed, pub: w.payerKey.PublicKey(), r: so.enc}
		sig, err := s.Sign(msg)
		must(err)
		raw(fmt.Sprintf("ed25519-small-order-r-%02d", i),
			fmt.Sprintf("The payer's key, R a point of order %d (%s), S = k·a: valid under ZIP-215, which accepts small-order and non-canonical R (only the key's owner can make such a signature).", so.order, so.spelling),
			w.payerKey.PublicKey(), sig, "")
	}

	// Certificates of every role.
	dv := w.deviceView(Input{})
	devCert := func(key []byte) []byte {
		c := *w.payer
		c.Key = key
		must(c.Sign(w.pki.IssuerKey))
		return protocol.Seal(&c)
	}
	issuer := *w.pki.Issuer
	issuer.Key = order8
	must(issuer.Sign(w.pki.RootKey))
	root := *w.pki.Root
	root.Key = identityKey
	root.Issuer = protocol.ComputeKeyID(protocol.AlgEd25519, identityKey)
	must(root.Sign(forger(identityKey)))
	vs = append(vs,
		bad("certificate-device-small-order-key", "certificate", "A device certificate for the identity point, correctly signed by the trusted issuer: refused (small-order key).",
			withEnvelope(dv, devCert(identityKey)), protocol.ClassBadKey),
		bad("certificate-device-non-canonical-key", "certificate", "A device certificate for the key y = p + 3 (non-canonical encoding), correctly signed by the trusted issuer.",
			withEnvelope(dv, devCert(nonCanonicalMixed)), protocol.ClassBadKey),
		bad("certificate-issuer-small-order-key", "certificate", "An issuer certificate for a point of order 8, correctly signed by the trusted root.",
			w.trust(Input{EnvelopeHex: hexOf(protocol.Seal(&issuer))}), protocol.ClassBadKey),
		bad("certificate-root-small-order-key", "certificate", "A root certificate for the identity point, self-signed with R = identity, S = 0 (which its key accepts): refused (small-order key).",
			Input{EnvelopeHex: hexOf(protocol.Seal(&root))}, protocol.ClassBadKey),
	)

	// Enrolment: the ledger must never certify such a key.
	enrol := func(s protocol.Signer) Input {
		r := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: protocol.AlgEd25519, Key: s.PublicKey(),
			Account: "mallory-01", Class: protocol.SEVirtual, Time: w.now}
		must(r.Sign(s))
		return Input{EnvelopeHex: hexOf(protocol.Seal(r))}
	}
	vs = append(vs,
		bad("enrolment-request-small-order-key", "enrolment_request", "An enrolment for the identity point, \"signed\" with R = identity, S = 0: refused (small-order key).",
			enrol(forger(identityKey)), protocol.ClassBadKey),
		bad("enrolment-request-order-8-key", "enrolment_request", "An enrolment for a point of order 8, \"signed\" with R = identity, S = 0: refused (small-order key).",
			enrol(forger(order8)), protocol.ClassBadKey),
		bad("enrolment-request-non-canonical-key", "enrolment_request", "An enrolment for the identity written y = p + 1 (non-canonical), \"signed\" with R = identity, S = 0.",
			enrol(forger(identityNonCanon)), protocol.ClassBadKey),
		bad("enrolment-request-mixed-order-key", "enrolment_request", "An enrolment for the payer's key plus a point of order 8, validly signed with the payer's secret: refused, a certified key must lie in the prime-order subgroup.",
			enrol(w.mixedAlias()), protocol.ClassBadKey),
	)

	// A payee named by a small-order key, and a payer holding one.
	req := func(f func(r *protocol.PaymentRequest), s protocol.Signer) Input {
		r := &protocol.PaymentRequest{Version: protocol.Version, Payee: *w.payee, Amount: 1250, Currency: "EUR",
			Nonce: nonce("request"), Expiry: w.now + 300, Name: "Corner Shop"}
		f(r)
		must(r.Sign(s))
		return Input{EnvelopeHex: hexOf(protocol.Seal(r))}
	}
	badPayee := *w.payee
	badPayee.Key = order8
	must(badPayee.Sign(w.pki.IssuerKey))
	_, pairing := channel()
	vs = append(vs,
		bad("payment-request-payee-small-order-key", "payment_request", "A request whose payee certificate (signed by the trusted issuer) holds a point of order 8, signed with R = identity, S = 0.",
			req(func(r *protocol.PaymentRequest) { r.Payee = badPayee }, forger(order8)), protocol.ClassBadKey),
		bad("payment-request-channel-key-zero", "payment_request", "A channel key of 32 zero bytes: an X25519 point of low order (every DH with it is zero).",
			req(func(r *protocol.PaymentRequest) { r.ChannelKey, r.Pairing = lowOrderX25519Zero, pairing }, w.payeeKey), protocol.ClassBadKey),
		bad("payment-request-channel-key-order-8", "payment_request", "A channel key that is an X25519 point of order 8.",
			req(func(r *protocol.PaymentRequest) { r.ChannelKey, r.Pairing = lowOrderX25519Eight, pairing }, w.payeeKey), protocol.ClassBadKey),
	)

	badPayer := *w.payer
	badPayer.Key = identityKey
	must(badPayer.Sign(w.pki.IssuerKey))
	p := *w.payment
	p.Payer = badPayer.ID()
	p.Amount = 500
	must(p.Sign(forger(identityKey)))
	vs = append(vs, bad("payment-bundle-payer-small-order-key", "payment_bundle",
		"5.00 EUR from a payer whose certificate (signed by the trusted issuer) holds the identity point, the payment \"signed\" with R = identity, S = 0: refused (small-order key).",
		withEnvelope(w.payeeView(Input{}), bundle(&p, &badPayer)), protocol.ClassBadKey))
	return vs
}
