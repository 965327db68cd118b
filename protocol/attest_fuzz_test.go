package protocol_test

import (
	"testing"

	"github.com/offpay/offpay/protocol"
)

// Any bytes decoded as an attestation or an attested enrolment get a
// classified refusal or a message that re-encodes to the same bytes.
func FuzzUnmarshalAttestation(f *testing.F) { fuzzType(f, protocol.TypeAttestation) }
func FuzzUnmarshalAttestedEnrolment(f *testing.F) {
	fuzzType(f, protocol.TypeAttestedEnrolment)
}
