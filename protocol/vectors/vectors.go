// Package vectors builds offpay's test vectors (spec/vectors) deterministically.
//
// Keys come from prototest's labelled seeds. Ed25519 signing is
// deterministic by definition; ECDSA P-256 signatures here use RFC 6979
// nonces (crypto/ecdsa with a nil random source), so the generator's output
// is byte-for-byte reproducible and a test can compare it with the files.
// Production P-256 signers stay randomized: that changes nothing for a
// verifier, which accepts any valid low-s signature.
package vectors

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// Vector is one test case, stored as spec/vectors/<Name>.json.
type Vector struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	MessageType string  `json:"message_type"`
	Input       Input   `json:"input"`
	Expect      string  `json:"expect"`
	Output      *Output `json:"output,omitempty"`
}

// Input holds what a verifier needs. Every field ending in _hex that holds
// a message holds an envelope: type byte, then the canonical encoding.
type Input struct {
	EnvelopeHex       string   `json:"envelope_hex,omitempty"`
	RootsHex          []string `json:"roots_hex,omitempty"`
	IssuersHex        []string `json:"issuers_hex,omitempty"`
	SignerCertHex     string   `json:"signer_cert_hex,omitempty"`
	RevocationListHex string   `json:"revocation_list_hex,omitempty"`
	Now               uint64   `json:"now,omitempty"`
	Payee             *Payee   `json:"payee,omitempty"`
	PubkeyHex         string   `json:"pubkey_hex,omitempty"`
	MsgHex            string   `json:"msg_hex,omitempty"`
	SigHex            string   `json:"sig_hex,omitempty"`
	Text              string   `json:"text,omitempty"`
	// Manufacturers: the trusted manufacturer keys (attestation vectors)
	Manufacturers []ManufacturerIn `json:"manufacturers,omitempty"`
}

// Payee is the payee's own view for payment_bundle vectors.
type Payee struct {
	SelfKeyIDHex  string `json:"self_key_id_hex"`
	Currency      string `json:"currency"`
	MaxRevListAge uint64 `json:"max_revocation_list_age"`
}

// Output is what a valid vector must also produce.
type Output struct {
	SigningInputHex string `json:"signing_input_hex,omitempty"`
	KeyIDHex        string `json:"key_id_hex,omitempty"`
	PaymentIDHex    string `json:"payment_id_hex,omitempty"`
	EntryHashHex    string `json:"entry_hash_hex,omitempty"`
	EnvelopeHex     string `json:"envelope_hex,omitempty"`
	Minor           *int64 `json:"minor,omitempty"`
	Currency        string `json:"currency,omitempty"`
}

// Money error classes (ParseAmount); protocol classes are protocol.Class.
const (
	MoneyMalformed       = "malformed_amount"
	MoneyUnknownCurrency = "unknown_currency"
	MoneyTooManyDecimals = "too_many_decimals"
	MoneyOverflow        = "amount_overflow"
)

// Valid is the expect value of a vector that must be accepted.
const Valid = "valid"

// All returns every vector, sorted by name. It panics if two share a name.
func All() []Vector {
	var out []Vector
	w := newWorld()
	out = append(out, w.validVectors()...)
	out = append(out, w.encodingVectors()...)
	out = append(out, w.checkVectors()...)
	out = append(out, w.orderVectors()...)
	out = append(out, w.qrVectors()...)
	out = append(out, ed25519Vectors(w)...)
	out = append(out, p256Vectors(w)...)
	out = append(out, moneyVectors()...)
	out = append(out, w.keyVectors()...)
	out = append(out, w.refundVectors()...)
	out = append(out, w.attestVectors()...)
	out = append(out, w.onlineVectors()...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			panic("vectors: duplicate name " + out[i].Name)
		}
	}
	return out
}

// Files returns the file contents of every vector, keyed by file name.
func Files() map[string][]byte {
	out := map[string][]byte{}
	for _, v := range All() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
		out[v.Name+".json"] = buf.Bytes()
	}
	return out
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	must(err)
	return b
}

// detP256 signs with RFC 6979 nonces, then normalizes s to the low half
// as offpay requires.
type detP256 struct{ protocol.P256Signer }

func (s detP256) Sign(msg []byte) ([]byte, error) {
	d := sha256.Sum256(msg)
	der, err := s.Key.Sign(nil, d[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	n := s.Key.Curve.Params().N
	if rs.S.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		rs.S.Sub(n, rs.S)
	}
	sig := make([]byte, protocol.SigSize)
	rs.R.FillBytes(sig[:32])
	rs.S.FillBytes(sig[32:])
	return sig, nil
}

// highS returns the other, high-s form of a low-s P-256 signature: valid
// for plain ECDSA, refused by offpay.
func highS(sig []byte) []byte {
	n := prototest.P256Key("x").Key.Curve.Params().N
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(n, s)
	out := append([]byte{}, sig[:32]...)
	return append(out, s.FillBytes(make([]byte, 32))...)
}

// replaceOnce replaces the only occurrence of old in b; it panics if old
// occurs zero or several times, so that a mutation never hits the wrong field.
func replaceOnce(b, old, new []byte) []byte {
	if bytes.Count(b, old) != 1 {
		panic(fmt.Sprintf("vectors: pattern %x occurs %d times", old, bytes.Count(b, old)))
	}
	return bytes.Replace(b, old, new, 1)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
