package protocol

import (
	"bytes"
	"encoding/hex"
)

// CtxAttestation is the signature context of an Attestation.
const CtxAttestation = "offpay/1/attestation"

// The attestation's message types (SPEC.md section 3).
const (
	TypeAttestation       Type = 15
	TypeAttestedEnrolment Type = 16
)

// Size limits of the attestation's messages.
const (
	MaxAttestationSize       = 192
	MaxAttestedEnrolmentSize = MaxEnrolmentSize + MaxAttestationSize + 1
)

// Attestation is a manufacturer's statement that a device key was made
// inside a secure element of a class (SPEC.md 7.16): what a card carries
// from its manufacture and shows at enrolment. It names the key, not an
// account: it is made before any account exists.
type Attestation struct {
	_       struct{} `cbor:",toarray"`
	Version uint8
	KeyAlg  Alg
	Key     []byte  // the device key made in the SE
	Class   SEClass // SESmartCard or SETEE
	Maker   KeyID   // the manufacturer key's KeyID
	Made    uint64  // unix seconds: when the key was made
	SigAlg  Alg
	Sig     []byte // by the manufacturer key
}

// AttestedEnrolment is an enrolment request with the attestation of its
// key (SPEC.md 7.17): what a device of a class above 1 sends instead of a
// bare EnrolmentRequest.
type AttestedEnrolment struct {
	_           struct{} `cbor:",toarray"`
	Request     EnrolmentRequest
	Attestation Attestation
}

func (*Attestation) Type() Type       { return TypeAttestation }
func (*AttestedEnrolment) Type() Type { return TypeAttestedEnrolment }

func (a *Attestation) Marshal() []byte       { return encode(a) }
func (e *AttestedEnrolment) Marshal() []byte { return encode(e) }

// SigningInput returns the bytes the attestation's signature covers.
func (a *Attestation) SigningInput() []byte {
	x := *a
	x.Sig = []byte{}
	return signingInput(CtxAttestation, encode(&x))
}

// Sign signs a with s, the manufacturer's key, and sets Maker to its KeyID.
func (a *Attestation) Sign(s Signer) error {
	a.Maker = ComputeKeyID(s.Alg(), s.PublicKey())
	return sign(s, &a.SigAlg, &a.Sig, a.SigningInput)
}

// ID is the KeyID of the attested device key.
func (a *Attestation) ID() KeyID { return ComputeKeyID(a.KeyAlg, a.Key) }

func (a *Attestation) validate() error {
	if err := checkVersion(a.Version); err != nil {
		return err
	}
	if err := CheckCertifiableKey(a.KeyAlg, a.Key); err != nil {
		return err
	}
	if a.Class != SESmartCard && a.Class != SETEE {
		return errf(ClassBadField, "attested SE class %d: only classes 2 and 3 are attested", a.Class)
	}
	return checkSig(a.SigAlg, a.Sig)
}

// validate checks both parts and that the attestation is of the request's
// key and class: an attestation of another key proves nothing about this
// one.
func (e *AttestedEnrolment) validate() error {
	if err := e.Request.validate(); err != nil {
		return err
	}
	if err := e.Attestation.validate(); err != nil {
		return err
	}
	if e.Attestation.KeyAlg != e.Request.KeyAlg || !bytes.Equal(e.Attestation.Key, e.Request.Key) {
		return errf(ClassBadField, "the attestation is of another key")
	}
	if e.Attestation.Class != e.Request.Class {
		return errf(ClassBadField, "the request claims class %d, the attestation says %d", e.Request.Class, e.Attestation.Class)
	}
	return nil
}

// Manufacturer is a manufacturer key a verifier of attestations trusts,
// for the classes it lists. Revoked keeps a withdrawn key on the list so
// that its attestations are refused as revoked rather than unknown.
type Manufacturer struct {
	KeyAlg  Alg
	Key     []byte
	Classes []SEClass
	Revoked bool
}

// ID is the manufacturer key's KeyID.
func (m *Manufacturer) ID() KeyID { return ComputeKeyID(m.KeyAlg, m.Key) }

// CheckAttestation verifies a against the trusted manufacturers (SPEC.md
// 7.16): the maker must be listed (untrusted_chain), not revoked
// (revoked), trusted for the attested class (untrusted_chain), and its
// signature must verify (bad_signature). a must have been decoded (its
// fields' domains checked).
func CheckAttestation(a *Attestation, trusted []Manufacturer) error {
	var m *Manufacturer
	for i := range trusted {
		if trusted[i].ID() == a.Maker {
			m = &trusted[i]
			break
		}
	}
	if m == nil {
		return errf(ClassUntrusted, "manufacturer %x is not trusted", a.Maker[:])
	}
	if m.Revoked {
		return errf(ClassRevoked, "manufacturer %x is revoked", a.Maker[:])
	}
	ok := false
	for _, c := range m.Classes {
		ok = ok || c == a.Class
	}
	if !ok {
		return errf(ClassUntrusted, "manufacturer %x is not trusted for class %d", a.Maker[:], a.Class)
	}
	if a.SigAlg != m.KeyAlg {
		return errf(ClassBadSignature, "attestation algorithm %v, manufacturer key %v", a.SigAlg, m.KeyAlg)
	}
	return VerifySignature(m.KeyAlg, m.Key, a.SigningInput(), a.Sig)
}

// TestManufacturerKey is the public half of the TEST manufacturer key
// (Ed25519) that the emulated card (`offpay card emulate --new`) signs its
// attestation with. Its private half is derived from a seed published in
// se/card/attest: anyone can sign with it, so a ledger must never trust it
// in production (ledger.Policy refuses it unless marked as a test key).
var TestManufacturerKey = mustHexKey("3556181812e06337afa4077b93878546b6d0af250a8795c3760f8b0ec664f2f9")

func mustHexKey(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Wire is what travels for r: r itself, or, if it carries an attestation,
// the AttestedEnrolment of both.
func (r *EnrolmentRequest) Wire() Message {
	if r.Attestation == nil {
		return r
	}
	x := *r
	x.Attestation = nil
	return &AttestedEnrolment{Request: x, Attestation: *r.Attestation}
}

// OpenEnrolment decodes an enrolment envelope: a bare EnrolmentRequest
// (type 12) or an AttestedEnrolment (type 16), whose attestation it hangs
// on the request.
func OpenEnrolment(data []byte) (*EnrolmentRequest, error) {
	if len(data) > 0 && Type(data[0]) == TypeAttestedEnrolment {
		var e AttestedEnrolment
		if err := Unmarshal(data[1:], &e); err != nil {
			return nil, err
		}
		r := e.Request
		r.Attestation = &e.Attestation
		return &r, nil
	}
	r := new(EnrolmentRequest)
	if err := OpenAs(data, r); err != nil {
		return nil, err
	}
	return r, nil
}
