package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// ClassLimits are the limits of the devices of one attested SE class
// (Policy.Classes): a certifying scheme gives a card more room offline
// than software, whose key a copied folder gives away.
type ClassLimits struct {
	Person   protocol.Limits
	Merchant protocol.Limits
}

// Manufacturer is a manufacturer key the ledger trusts to attest that a
// device key was made inside an SE of the classes listed (README
// "Attested enrolment"). Revoked keeps a withdrawn key listed so that its
// attestations are refused as revoked. Test must be set for, and only for,
// protocol.TestManufacturerKey, whose private half is public: a policy that
// trusts it is a test policy.
type Manufacturer struct {
	Name    string
	KeyAlg  protocol.Alg
	Key     []byte
	Classes []protocol.SEClass
	Revoked bool
	Test    bool
}

// ErrNotAttested is the refusal of an enrolment for a class above 1 that
// carries no attestation, or one the policy does not accept. The error's
// code is EFORBIDDEN; errors.Is also finds the protocol class of the
// attestation's failure (untrusted_chain, revoked, bad_signature).
var ErrNotAttested = errors.New("the SE class needs a manufacturer's attestation the ledger trusts")

// limits returns the limits of a device of class for a person or a
// merchant: the class's own, if the policy gives them, else the class-1
// limits (Person, Merchant).
func (p *Policy) limits(class protocol.SEClass, merchant bool) protocol.Limits {
	l, ok := p.Classes[class]
	switch {
	case ok && merchant:
		return l.Merchant
	case ok:
		return l.Person
	case merchant:
		return p.Merchant
	}
	return p.Person
}

// TrustsTestManufacturer reports whether the policy trusts the TEST
// manufacturer key (not for production).
func (p *Policy) TrustsTestManufacturer() bool {
	for _, m := range p.Manufacturers {
		if m.Test && !m.Revoked {
			return true
		}
	}
	return false
}

func (p *Policy) checkAttestation() error {
	for c := range p.Classes {
		if c != protocol.SESmartCard && c != protocol.SETEE {
			return invalid("limits for SE class %d: only classes 2 and 3 have limits of their own", c)
		}
	}
	seen := map[protocol.KeyID]bool{}
	for _, m := range p.Manufacturers {
		if m.Name == "" {
			return invalid("a manufacturer without a name")
		}
		if err := protocol.CheckKey(m.KeyAlg, m.Key); err != nil {
			return invalid("manufacturer %q: key: %v", m.Name, err)
		}
		id := protocol.ComputeKeyID(m.KeyAlg, m.Key)
		if seen[id] {
			return invalid("manufacturer %q: key listed twice", m.Name)
		}
		seen[id] = true
		if len(m.Classes) == 0 {
			return invalid("manufacturer %q attests no class", m.Name)
		}
		for _, c := range m.Classes {
			if c != protocol.SESmartCard && c != protocol.SETEE {
				return invalid("manufacturer %q: class %d is not attested (only 2 and 3)", m.Name, c)
			}
		}
		isTest := m.KeyAlg == protocol.AlgEd25519 && bytes.Equal(m.Key, protocol.TestManufacturerKey)
		if isTest && !m.Test {
			return invalid("manufacturer %q is the published TEST key: never trust it in production; a test policy must say \"test\": true", m.Name)
		}
		if m.Test && !isTest {
			return invalid("manufacturer %q is marked test but is not the TEST key", m.Name)
		}
	}
	return nil
}

// checkClass applies the attestation rule to a decoded, possession-checked
// enrolment request: class 1 needs nothing; a higher class needs an
// attestation of the request's key and class from a manufacturer the
// policy trusts for that class.
func (s *Service) checkClass(r *protocol.EnrolmentRequest) error {
	a := r.Attestation
	if a == nil {
		if r.Class == protocol.SEVirtual {
			return nil
		}
		return offpay.Errorf(offpay.EFORBIDDEN, "enrolment refused: %w: the request claims class %d and carries no attestation", ErrNotAttested, r.Class)
	}
	// The request and its attestation, as one message: the same rules as
	// on the wire (the key and the class must match).
	var e protocol.AttestedEnrolment
	x := *r
	x.Attestation = nil
	if err := protocol.Unmarshal((&protocol.AttestedEnrolment{Request: x, Attestation: *a}).Marshal(), &e); err != nil {
		return offpay.Errorf(offpay.EFORBIDDEN, "enrolment refused: %w: %w", ErrNotAttested, err)
	}
	pol := s.Policy()
	trusted := make([]protocol.Manufacturer, len(pol.Manufacturers))
	for i, m := range pol.Manufacturers {
		trusted[i] = protocol.Manufacturer{KeyAlg: m.KeyAlg, Key: m.Key, Classes: m.Classes, Revoked: m.Revoked}
	}
	if err := protocol.CheckAttestation(&e.Attestation, trusted); err != nil {
		return offpay.Errorf(offpay.EFORBIDDEN, "enrolment refused: %w: %w", ErrNotAttested, err)
	}
	return nil
}

func (m Manufacturer) String() string {
	return fmt.Sprintf("%s (%x)", m.Name, protocol.ComputeKeyID(m.KeyAlg, m.Key))
}

// attestedKey is the meta key under which the ledger keeps the KeyID of
// the manufacturer that attested a device (no column: a device row has no
// place for it, and the meta table needs no migration).
func attestedKey(id protocol.KeyID) string { return "attested-by/" + id.String() }

// recordAttestation remembers who attested a newly enrolled device.
func recordAttestation(ctx context.Context, tx Tx, r *protocol.EnrolmentRequest) error {
	if r.Attestation == nil {
		return nil
	}
	return tx.PutMeta(ctx, attestedKey(r.ID()), r.Attestation.Maker[:])
}

// classNow is the class a device of certificate class c may keep at its
// renewal: c while the manufacturer that attested it is still trusted for
// c by the policy, else class 1 (its manufacturer was revoked or removed,
// or it was enrolled as c before attestation was required).
func (s *Service) classNow(ctx context.Context, tx Tx, id protocol.KeyID, c protocol.SEClass) (protocol.SEClass, error) {
	if c <= protocol.SEVirtual {
		return c, nil
	}
	b, err := tx.Meta(ctx, attestedKey(id))
	if err != nil || len(b) != len(protocol.KeyID{}) {
		return protocol.SEVirtual, err
	}
	var maker protocol.KeyID
	copy(maker[:], b)
	pol := s.Policy()
	for _, m := range pol.Manufacturers {
		if protocol.ComputeKeyID(m.KeyAlg, m.Key) != maker || m.Revoked {
			continue
		}
		for _, mc := range m.Classes {
			if mc == c {
				return c, nil
			}
		}
	}
	return protocol.SEVirtual, nil
}
