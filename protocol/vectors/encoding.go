package vectors

import (
	"crypto/elliptic"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/offpay/offpay/protocol"
)

func bad(name, typ, desc string, in Input, class protocol.Class) Vector {
	return Vector{Name: name, Description: desc, MessageType: typ, Input: in, Expect: string(class)}
}

// withEnvelope returns in with its envelope replaced by env.
func withEnvelope(in Input, env []byte) Input {
	in.EnvelopeHex = hexOf(env)
	return in
}

// asMap re-spells a message array as a map from index to element: the
// shape integer-keyed designs use, refused by offpay.
func asMap(body []byte) []byte {
	var elems []cbor.RawMessage
	must(cbor.Unmarshal(body, &elems))
	out := []byte{0xa0 | byte(len(elems))}
	for i, e := range elems {
		out = append(out, byte(i))
		out = append(out, e...)
	}
	return out
}

// notOnCurve returns a 33-byte compressed P-256 encoding that is not a
// point: the smallest x from 1 up with no y.
func notOnCurve() []byte {
	for x := byte(1); ; x++ {
		k := make([]byte, 33)
		k[0], k[32] = 0x02, x
		if px, _ := elliptic.UnmarshalCompressed(elliptic.P256(), k); px == nil {
			return k
		}
	}
}

// encodingVectors: decoding failures (every class a decoder reports before
// any key is used) and signature failures of single messages.
func (w *world) encodingVectors() []Vector {
	p := w.payment
	pin := signed(p, w.payer)
	env := protocol.Seal(p)
	body := env[1:]
	pre := func(b []byte) []byte { return append([]byte{byte(protocol.TypePayment)}, b...) }
	payerID := p.Payer

	mod := func(f func(q *protocol.Payment), key protocol.Signer) []byte {
		q := *p
		f(&q)
		if key != nil {
			must(q.Sign(key))
		}
		return protocol.Seal(&q)
	}
	var vs []Vector
	add := func(name, desc string, e []byte, class protocol.Class) {
		vs = append(vs, bad(name, "payment", desc, withEnvelope(pin, e), class))
	}
	add("payment-non-minimal-int", "The amount 1250 written as a 4-byte integer (0x1a000004e2) instead of 0x1904e2.",
		replaceOnce(env, []byte{0x19, 0x04, 0xe2}, []byte{0x1a, 0, 0, 0x04, 0xe2}), protocol.ClassNonCanonical)
	add("payment-non-minimal-length", "The currency text string with a 1-byte length head (0x7803) instead of 0x63.",
		replaceOnce(env, []byte{0x63, 'E', 'U', 'R'}, []byte{0x78, 3, 'E', 'U', 'R'}), protocol.ClassNonCanonical)
	add("payment-indefinite-array", "The payment array with indefinite length (0x9f ... 0xff).",
		pre(append(append([]byte{0x9f}, body[1:]...), 0xff)), protocol.ClassMalformed)
	add("payment-map", "The payment as a map from field index to value instead of an array.",
		pre(asMap(body)), protocol.ClassMalformed)
	add("payment-tag", "The payment wrapped in the self-describe CBOR tag 55799 (0xd9d9f7).",
		pre(append([]byte{0xd9, 0xd9, 0xf7}, body...)), protocol.ClassMalformed)
	add("payment-truncated", "The payment without its last byte.", env[:len(env)-1], protocol.ClassMalformed)
	add("payment-trailing-bytes", "A valid payment followed by one zero byte.", append(append([]byte{}, env...), 0), protocol.ClassTrailingBytes)
	add("payment-key-id-short", "The payer KeyID as a 15-byte string: wrong size for a fixed-size field.",
		replaceOnce(env, append([]byte{0x50}, payerID[:]...), append([]byte{0x4f}, payerID[:15]...)), protocol.ClassMalformed)
	add("payment-signature-null", "The signature field holds CBOR null (0xf6) instead of a byte string.",
		replaceOnce(env, append([]byte{0x58, 0x40}, p.Sig...), []byte{0xf6}), protocol.ClassMalformed)
	add("payment-unknown-version", "Version 2, correctly signed.", mod(func(q *protocol.Payment) { q.Version = 2 }, w.payerKey), protocol.ClassUnknownVersion)
	add("payment-unknown-algorithm", "Signature algorithm 3 (not defined).",
		mod(func(q *protocol.Payment) { q.SigAlg = 3 }, nil), protocol.ClassUnknownAlg)
	add("payment-oversize", "A 200+ byte payment (a 100-character currency code): refused on size before parsing.",
		mod(func(q *protocol.Payment) { q.Currency = strings.Repeat("X", 100) }, nil), protocol.ClassOversize)
	add("payment-signature-63-bytes", "A 63-byte signature.", mod(func(q *protocol.Payment) { q.Sig = q.Sig[:63] }, nil), protocol.ClassBadField)
	add("payment-zero-counter", "Counter 0: counters start at 1.", mod(func(q *protocol.Payment) { q.Counter = 0 }, w.payerKey), protocol.ClassBadField)
	add("payment-zero-hops", "Hops 0: a payment counts itself, so hops start at 1.", mod(func(q *protocol.Payment) { q.Hops = 0 }, w.payerKey), protocol.ClassBadField)
	add("payment-currency-lower-case", "Currency code \"eur\": codes are 3 to 8 of A-Z and 0-9.",
		mod(func(q *protocol.Payment) { q.Currency = "eur" }, w.payerKey), protocol.ClassBadField)
	add("payment-amount-overflow", "Amount 2^63: above the int64 range of every amount.",
		mod(func(q *protocol.Payment) { q.Amount = 1 << 63 }, w.payerKey), protocol.ClassAmount)
	add("payment-zero-amount", "Amount 0 in a payment.", mod(func(q *protocol.Payment) { q.Amount = 0 }, w.payerKey), protocol.ClassAmount)
	add("payment-bad-signature", "One bit of the signature's S half flipped.",
		mod(func(q *protocol.Payment) { q.Sig = flip(q.Sig, 40) }, nil), protocol.ClassBadSignature)
	add("payment-tampered-amount", "Amount raised to 1251 after signing.", mod(func(q *protocol.Payment) { q.Amount = 1251 }, nil), protocol.ClassBadSignature)
	add("payment-wrong-context", "Signed by the payer's key over the payment's bytes under the receipt context offpay/1/receipt.",
		mod(func(q *protocol.Payment) {
			q.Sig = resignUnder(protocol.CtxReceipt, q.SigningInput(), protocol.CtxPayment, w.payerKey)
		}, nil), protocol.ClassBadSignature)
	add("payment-wrong-key", "Signed by the payee's key, verified against the payer's certificate.",
		mod(func(*protocol.Payment) {}, w.payeeKey), protocol.ClassBadSignature)

	pp := w.paymentP
	ppIn := signed(pp, w.payerP)
	hi := *pp
	hi.Sig = highS(pp.Sig)
	vs = append(vs,
		bad("payment-p256-high-s", "payment", "The P-256 payment with s replaced by n-s: valid ECDSA, refused because s > n/2.",
			withEnvelope(ppIn, protocol.Seal(&hi)), protocol.ClassBadSignature),
		bad("payment-algorithm-mismatch", "payment", "An Ed25519-signed payment checked against a P-256 payer certificate.",
			Input{EnvelopeHex: hexOf(env), SignerCertHex: hexOf(protocol.Seal(w.payerP))}, protocol.ClassBadSignature),
		bad("envelope-unknown-type", "envelope", "Envelope type byte 0x63 (not defined) before a valid payment.",
			Input{EnvelopeHex: hexOf(append([]byte{0x63}, body...))}, protocol.ClassUnknownType),
		bad("envelope-type-zero", "envelope", "Envelope type byte 0x00.", Input{EnvelopeHex: hexOf(append([]byte{0}, body...))}, protocol.ClassUnknownType),
		bad("envelope-empty", "envelope", "An empty envelope.", Input{}, protocol.ClassMalformed),
		bad("envelope-wrong-type", "payment", "A receipt envelope (type 7) where a payment is expected.",
			withEnvelope(pin, protocol.Seal(w.receipt)), protocol.ClassUnknownType),
	)
	return append(vs, w.certEncodingVectors()...)
}

// certEncodingVectors: certificates refused by the decoder or signature.
func (w *world) certEncodingVectors() []Vector {
	in := w.deviceView(Input{})
	cert := func(f func(c *protocol.Certificate), resign bool) []byte {
		c := *w.payer
		f(&c)
		if resign {
			must(c.Sign(w.pki.IssuerKey))
		}
		return protocol.Seal(&c)
	}
	add := func(name, desc string, e []byte, class protocol.Class) Vector {
		return bad(name, "certificate", desc, withEnvelope(in, e), class)
	}
	merchant := func(f func(c *protocol.Certificate), resign bool) []byte {
		c := *w.payee
		f(&c)
		if resign {
			must(c.Sign(w.pki.IssuerKey))
		}
		return protocol.Seal(&c)
	}
	p256 := *w.payerP
	p256.Key = notOnCurve()
	must(p256.Sign(w.pki.IssuerKey))
	uncompressed := *w.payerP
	u, err := w.p256Key.Key.PublicKey.Bytes()
	must(err)
	uncompressed.Key = u
	must(uncompressed.Sign(w.pki.IssuerKey))
	return []Vector{
		add("certificate-unknown-version", "A device certificate with version 2, correctly signed.",
			cert(func(c *protocol.Certificate) { c.Version = 2 }, true), protocol.ClassUnknownVersion),
		add("certificate-unknown-key-algorithm", "Key algorithm 9 (not defined).",
			cert(func(c *protocol.Certificate) { c.KeyAlg = 9 }, true), protocol.ClassUnknownAlg),
		add("certificate-ed25519-key-31-bytes", "An Ed25519 key of 31 bytes.",
			cert(func(c *protocol.Certificate) { c.Key = c.Key[:31] }, true), protocol.ClassBadKey),
		add("certificate-p256-key-not-on-curve", "A 33-byte compressed P-256 key whose x has no point on the curve.",
			protocol.Seal(&p256), protocol.ClassBadKey),
		add("certificate-p256-key-uncompressed", "A 65-byte uncompressed P-256 key: only the 33-byte compressed form is allowed.",
			protocol.Seal(&uncompressed), protocol.ClassBadKey),
		add("certificate-validity-inverted", "not_after before not_before.",
			cert(func(c *protocol.Certificate) { c.NotAfter = c.NotBefore - 1 }, true), protocol.ClassBadField),
		add("certificate-account-too-long", "A 17-byte account reference (limit 16): an oversize field is bad_field.",
			cert(func(c *protocol.Certificate) { c.Account = "alice-0001-000000" }, true), protocol.ClassBadField),
		add("certificate-bad-signature", "One bit of the issuer's signature flipped.",
			cert(func(c *protocol.Certificate) { c.Sig = flip(c.Sig, 3) }, false), protocol.ClassBadSignature),
		add("certificate-tampered-limit", "Per-payment limit raised after the issuer signed.",
			cert(func(c *protocol.Certificate) { c.Limits.PerPayment *= 10 }, false), protocol.ClassBadSignature),
		add("certificate-wrong-context", "Signed by the issuer over the certificate's bytes under the payment context.",
			cert(func(c *protocol.Certificate) {
				c.Sig = resignUnder(protocol.CtxPayment, c.SigningInput(), protocol.CtxCertificate, w.pki.IssuerKey)
			}, false), protocol.ClassBadSignature),
		add("certificate-issuer-fields-on-device", "A device certificate whose SE class is 0 (none): bad field.",
			cert(func(c *protocol.Certificate) { c.Class = protocol.SENone }, true), protocol.ClassBadField),
		bad("certificate-device-oversize", "certificate", "A device certificate of 292 bytes (limit 288).",
			withEnvelope(in, cert(func(c *protocol.Certificate) { c.Account = strings.Repeat("a", 132) }, false)), protocol.ClassOversize),
		add("certificate-tampered-person-to-merchant", "A person's device certificate given a name after the issuer signed (to pass for a merchant).",
			cert(func(c *protocol.Certificate) { c.Name = "Corner Shop" }, false), protocol.ClassBadSignature),
		add("certificate-merchant-name-too-long", "A merchant's name of 25 bytes (limit 24).",
			merchant(func(c *protocol.Certificate) { c.Name = "Corner Shop and Bakery 24" }, true), protocol.ClassBadField),
		add("certificate-merchant-name-bidi-control", "A merchant's name holding U+202E RIGHT-TO-LEFT OVERRIDE, which reorders what a payer reads.",
			merchant(func(c *protocol.Certificate) { c.Name = "Shop\u202epohS" }, true), protocol.ClassBadField),
		add("certificate-merchant-name-control", "A merchant's name holding a line feed.",
			merchant(func(c *protocol.Certificate) { c.Name = "Corner\nShop" }, true), protocol.ClassBadField),
		add("certificate-merchant-name-trailing-space", "A merchant's name with a trailing space (\"Shop \" would pass for \"Shop\").",
			merchant(func(c *protocol.Certificate) { c.Name = "Corner Shop " }, true), protocol.ClassBadField),
		add("certificate-tampered-name", "A merchant's certified name changed after the issuer signed.",
			merchant(func(c *protocol.Certificate) { c.Name = "Corner Bank" }, false), protocol.ClassBadSignature),
		add("certificate-tampered-min-pin", "The PIN minimum lowered after the issuer signed.",
			cert(func(c *protocol.Certificate) { c.Limits.MinPIN = 4 }, false), protocol.ClassBadSignature),
		bad("certificate-issuer-with-name", "certificate", "An issuer certificate carrying a name, correctly signed by the root.",
			w.trust(Input{EnvelopeHex: hexOf(issuerWith(w, func(c *protocol.Certificate) { c.Name = "Bank" }))}), protocol.ClassBadField),
		bad("certificate-issuer-with-min-pin", "certificate", "An issuer certificate with a PIN minimum (a device limit), correctly signed by the root.",
			w.trust(Input{EnvelopeHex: hexOf(issuerWith(w, func(c *protocol.Certificate) { c.Limits.MinPIN = 6 }))}), protocol.ClassBadField),
	}
}

// issuerWith is the trusted issuer's certificate changed by f and signed
// again by the root.
func issuerWith(w *world, f func(c *protocol.Certificate)) []byte {
	c := *w.pki.Issuer
	f(&c)
	must(c.Sign(w.pki.RootKey))
	return protocol.Seal(&c)
}
