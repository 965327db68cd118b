package vectors

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// ManufacturerIn is a manufacturer key a verifier of attestations trusts
// (SPEC.md 7.16): its algorithm, key, the classes it attests, and whether
// the policy marks it revoked.
type ManufacturerIn struct {
	KeyAlg  uint8  `json:"key_alg"`
	KeyHex  string `json:"key_hex"`
	Classes []int  `json:"classes"`
	Revoked bool   `json:"revoked,omitempty"`
}

// attestVectors: attestations and attested enrolments, valid and refused.
func (w *world) attestVectors() []Vector {
	maker := prototest.Ed25519Key("card manufacturer")
	forger := prototest.Ed25519Key("forged manufacturer")
	card, soft := w.payerKey, prototest.Ed25519Key("software SE")
	trusted := func(revoked bool, classes ...int) Input {
		return Input{Manufacturers: []ManufacturerIn{{KeyAlg: uint8(maker.Alg()), KeyHex: hexOf(maker.PublicKey()), Classes: classes, Revoked: revoked}}}
	}
	att := func(by protocol.Signer, dev protocol.Signer, class protocol.SEClass) *protocol.Attestation {
		a := &protocol.Attestation{Version: protocol.Version, KeyAlg: dev.Alg(), Key: dev.PublicKey(), Class: class, Made: prototest.Epoch - 86400*30}
		must(a.Sign(by))
		return a
	}
	req := func(dev, signer protocol.Signer, class protocol.SEClass) protocol.EnrolmentRequest {
		r := protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: dev.Alg(), Key: dev.PublicKey(),
			Account: "carol-0001", Class: class, Time: prototest.Epoch - 3600}
		must(r.Sign(signer))
		return r
	}
	env := func(in Input, m protocol.Message) Input { return withEnvelope(in, protocol.Seal(m)) }
	ae := func(r protocol.EnrolmentRequest, a *protocol.Attestation) *protocol.AttestedEnrolment {
		return &protocol.AttestedEnrolment{Request: r, Attestation: *a}
	}
	good := att(maker, card, protocol.SESmartCard)
	okReq := req(card, card, protocol.SESmartCard)
	forged := att(forger, card, protocol.SESmartCard)
	forged.Maker = good.Maker // claims the trusted maker, signed by another key
	class1 := &protocol.Attestation{Version: protocol.Version, KeyAlg: card.Alg(), Key: card.PublicKey(), Class: protocol.SEVirtual, Made: good.Made}
	must(class1.Sign(maker))
	const at = "attested_enrolment"
	tr := trusted(false, 2)
	return []Vector{
		{Name: "attestation-valid", MessageType: "attestation", Expect: Valid, Input: env(tr, good),
			Description: "A manufacturer's attestation that the payer's key was made in a smart card (class 2), signed by a manufacturer key the verifier trusts for class 2.",
			Output:      &Output{SigningInputHex: hexOf(good.SigningInput())}},
		bad("attestation-class-1", "attestation", "An attestation of class 1 (software): only classes 2 and 3 are attested.",
			env(tr, class1), protocol.ClassBadField),
		{Name: "attested-enrolment-valid", MessageType: at, Expect: Valid, Input: env(tr, ae(okReq, good)),
			Description: "A card's enrolment request for class 2 with its key's attestation: the request signed by the key, the attestation by a trusted manufacturer."},
		bad("attested-enrolment-another-key", at, "A software SE's request for class 2 carrying a genuine card's attestation (of another key).",
			env(tr, ae(req(soft, soft, protocol.SESmartCard), good)), protocol.ClassBadField),
		bad("attested-enrolment-class-mismatch", at, "The card claims class 3 (TEE) with an attestation of class 2.",
			env(tr, ae(req(card, card, protocol.SETEE), good)), protocol.ClassBadField),
		bad("attested-enrolment-not-possessed", at, "The card's attestation with a request for the card's key signed by another key: the attestation alone proves nothing about who asks.",
			env(tr, ae(req(card, soft, protocol.SESmartCard), good)), protocol.ClassBadSignature),
		bad("attested-enrolment-untrusted-manufacturer", at, "An attestation signed by a manufacturer key the verifier does not list.",
			env(tr, ae(okReq, att(forger, card, protocol.SESmartCard))), protocol.ClassUntrusted),
		bad("attested-enrolment-manufacturer-other-class", at, "The manufacturer is trusted for class 3 only; the attestation says class 2.",
			env(trusted(false, 3), ae(okReq, good)), protocol.ClassUntrusted),
		bad("attested-enrolment-revoked-manufacturer", at, "The manufacturer's key is listed as revoked.",
			env(trusted(true, 2), ae(okReq, good)), protocol.ClassRevoked),
		bad("attested-enrolment-forged-signature", at, "The attestation names the trusted manufacturer's KeyID but is signed by another key.",
			env(tr, ae(okReq, forged)), protocol.ClassBadSignature),
	}
}
