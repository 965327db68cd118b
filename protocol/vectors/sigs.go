package vectors

import (
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"

	"github.com/offpay/offpay/protocol"
)

// The published Ed25519 edge cases, copied from curve25519-voi's testdata
// (see edcases/README.md for their origin and licence).
//
//go:embed edcases/*.json.gz
var edcases embed.FS

func readGzipJSON(name string, v any) {
	f, err := edcases.Open("edcases/" + name)
	must(err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	must(err)
	b, err := io.ReadAll(z)
	must(err)
	must(json.Unmarshal(b, v))
}

// speccheck lists, per case of "Taming the many EdDSAs" (Chalkias,
// Garillot, Nikolaenko 2020), what it exercises and offpay's answer: the
// class, or "" for valid. Keys of small order are refused before the
// ZIP-215 equation (SPEC.md 5.2 step 2); mixed-order keys are not.
var speccheck = []struct {
	what  string
	class protocol.Class
}{
	{"small-order A, small-order R: valid under the bare ZIP-215 equation, refused because A has small order", protocol.ClassBadKey},
	{"small-order A, mixed-order R: valid under the bare ZIP-215 equation, refused because A has small order", protocol.ClassBadKey},
	{"mixed-order A, small-order R", ""},
	{"mixed-order A, mixed-order R", ""},
	{"passes only the cofactored equation", ""},
	{"passes only if the cofactored check computes 8(hA) rather than (8h mod L)A", ""},
	{"non-canonical S (S > L)", protocol.ClassBadSignature},
	{"non-canonical S (S >> L)", protocol.ClassBadSignature},
	{"mixed-order A, non-canonical small-order R, passes only if R is reduced before hashing", protocol.ClassBadSignature},
	{"mixed-order A, non-canonical small-order R, passes if R is hashed as sent", ""},
	{"non-canonical small-order A (x = 0 with the sign bit set), mixed-order R: refused because A is not canonical", protocol.ClassBadKey},
	{"non-canonical small-order A (x = 0 with the sign bit set), mixed-order R: refused because A is not canonical", protocol.ClassBadKey},
}

func sigVector(name, typ, desc string, key, msg, sig []byte, class protocol.Class) Vector {
	expect := Valid
	if class != "" {
		expect = string(class)
	}
	return Vector{Name: name, Description: desc, MessageType: typ, Expect: expect,
		Input: Input{PubkeyHex: hexOf(key), MsgHex: hexOf(msg), SigHex: hexOf(sig)}}
}

// ed25519Vectors: raw Ed25519 verifications under offpay's ZIP-215 rule.
func ed25519Vectors(w *world) []Vector {
	var vs []Vector
	var sc []struct {
		Message   string `json:"message"`
		PublicKey string `json:"pub_key"`
		Signature string `json:"signature"`
	}
	readGzipJSON("speccheck_cases.json.gz", &sc)
	if len(sc) != len(speccheck) {
		panic("vectors: speccheck case count changed")
	}
	for i, c := range sc {
		class := speccheck[i].class
		vs = append(vs, sigVector(fmt.Sprintf("ed25519-speccheck-%02d", i), "ed25519",
			fmt.Sprintf("\"Taming the many EdDSAs\" case %d: %s.", i, speccheck[i].what),
			mustHex(c.PublicKey), mustHex(c.Message), mustHex(c.Signature), class))
	}
	var zc [][2]string
	readGzipJSON("zip215.json.gz", &zc)
	for i, c := range zc {
		vs = append(vs, sigVector(fmt.Sprintf("ed25519-zip215-%03d", i), "ed25519",
			"ZIP-215 test vector "+fmt.Sprint(i)+" (message \"Zcash\"): A and R of small order, each in one of their 14 encodings (canonical or not), S = 0. Valid under the bare ZIP-215 equation; refused because A has small order (SPEC 5.2). The ed25519-small-order-r-* vectors keep the R side.",
			mustHex(c[0]), []byte("Zcash"), mustHex(c[1]), protocol.ClassBadKey))
	}
	msg := []byte("offpay")
	key := w.payerKey.PublicKey()
	sig, err := w.payerKey.Sign(msg)
	must(err)
	vs = append(vs,
		sigVector("ed25519-valid", "ed25519", "An ordinary signature by the payer's key.", key, msg, sig, ""),
		sigVector("ed25519-wrong-message", "ed25519", "The same signature over another message.", key, []byte("offpaz"), sig, protocol.ClassBadSignature),
		sigVector("ed25519-signature-63-bytes", "ed25519", "A truncated signature.", key, msg, sig[:63], protocol.ClassBadSignature),
		sigVector("ed25519-key-33-bytes", "ed25519", "A 33-byte public key.", append(append([]byte{}, key...), 0), msg, sig, protocol.ClassBadKey),
	)
	// S = L exactly: the smallest non-canonical S. Refused before any
	// curve arithmetic.
	sL := append(append([]byte{}, sig[:32]...), lBytes()...)
	vs = append(vs, sigVector("ed25519-s-equals-l", "ed25519", "S = L (the group order): S must be below L.", key, msg, sL, protocol.ClassBadSignature))
	return vs
}

// lBytes is the Ed25519 group order L in little-endian.
func lBytes() []byte {
	return mustHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
}

// p256Vectors: raw ECDSA P-256 (SHA-256) verifications.
func p256Vectors(w *world) []Vector {
	msg := []byte("offpay")
	key := w.p256Key.PublicKey()
	sig, err := w.p256Key.Sign(msg)
	must(err)
	u, err := w.p256Key.Key.PublicKey.Bytes()
	must(err)
	zeroS := append(append([]byte{}, sig[:32]...), make([]byte, 32)...)
	return []Vector{
		sigVector("ecdsa-p256-valid", "ecdsa_p256", "A low-s signature (RFC 6979 nonce) over SHA-256 of the message, by a compressed 33-byte key.", key, msg, sig, ""),
		sigVector("ecdsa-p256-high-s", "ecdsa_p256", "The same signature with s replaced by n-s: valid ECDSA, refused because s > n/2.", key, msg, highS(sig), protocol.ClassBadSignature),
		sigVector("ecdsa-p256-wrong-message", "ecdsa_p256", "The signature over another message.", key, []byte("offpaz"), sig, protocol.ClassBadSignature),
		sigVector("ecdsa-p256-zero-s", "ecdsa_p256", "s = 0.", key, msg, zeroS, protocol.ClassBadSignature),
		sigVector("ecdsa-p256-key-uncompressed", "ecdsa_p256", "The key in 65-byte uncompressed form.", u, msg, sig, protocol.ClassBadKey),
		sigVector("ecdsa-p256-key-not-on-curve", "ecdsa_p256", "A compressed key whose x has no point.", notOnCurve(), msg, sig, protocol.ClassBadKey),
	}
}
