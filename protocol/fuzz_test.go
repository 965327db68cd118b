package protocol_test

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// envelopes returns every envelope the vectors hold: the messages under
// test and the certificates and lists they come with.
func envelopes(t testing.TB) [][]byte {
	var out [][]byte
	for _, v := range loadVectors(t) {
		in := v.Input
		for _, s := range append(append([]string{in.EnvelopeHex, in.SignerCertHex, in.RevocationListHex}, in.RootsHex...), in.IssuersHex...) {
			if s != "" {
				out = append(out, unhex(t, s))
			}
		}
	}
	return out
}

// fuzzPayee is a fixed verifier view, so that fuzzed messages also run
// through the checks (which must never panic either).
var fuzzPayee = func() protocol.PayeeCheck {
	pki := prototest.NewPKI("fuzz")
	return protocol.PayeeCheck{Trust: pki.Trust, RevList: pki.RevList, Currency: "EUR", MaxRLAge: 3600, Now: prototest.Epoch}
}()

// exercise runs m through the verifier that applies to it; only panics matter.
func exercise(m protocol.Message) {
	pc := fuzzPayee
	switch m := m.(type) {
	case *protocol.PaymentBundle:
		_ = protocol.CheckBundle(m, pc)
		_ = m.Payment.Verify(&m.Cert)
	case *protocol.Certificate:
		_ = pc.Trust.VerifyDevice(m, pc.Now, pc.RevList)
		_, _ = protocol.NewTrust(m)
	case *protocol.RevocationList:
		_ = pc.Trust.VerifyRevocationList(m)
	case *protocol.PaymentRequest:
		_ = m.Verify()
	case *protocol.EnrolmentRequest:
		_ = m.Verify()
	case *protocol.LogEntry:
		_ = m.Hash()
	}
}

// roundTrip requires an accepted body to re-encode to exactly its bytes.
func roundTrip(t *testing.T, body []byte, m protocol.Message) {
	if got := m.Marshal(); !bytes.Equal(got, body) {
		t.Fatalf("accepted %x but re-encodes as %x", body, got)
	}
}

// FuzzOpen decodes arbitrary envelopes: no panic, and every accepted
// envelope re-seals to the same bytes (no second spelling of a message).
func FuzzOpen(f *testing.F) {
	seeds := envelopes(f)
	if len(seeds) == 0 {
		f.Fatal("empty seed corpus")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, env []byte) {
		m, err := protocol.Open(env)
		if err != nil {
			if protocol.ClassOf(err) == "" {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if got := protocol.Seal(m); !bytes.Equal(got, env) {
			t.Fatalf("accepted %x but re-seals as %x", env, got)
		}
		exercise(m)
	})
}

// fuzzType fuzzes Unmarshal for one message type, seeded with the bodies
// of every vector envelope of that type.
func fuzzType(f *testing.F, typ protocol.Type) {
	n := 0
	for _, env := range envelopes(f) {
		if len(env) > 0 && protocol.Type(env[0]) == typ {
			f.Add(env[1:])
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no vector seeds a message of type %d", typ)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := protocol.New(typ)
		if err != nil {
			t.Fatal(err)
		}
		if err := protocol.Unmarshal(body, m); err != nil {
			if protocol.ClassOf(err) == "" {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		roundTrip(t, body, m)
		exercise(m)
	})
}

func FuzzUnmarshalCertificate(f *testing.F)    { fuzzType(f, protocol.TypeCertificate) }
func FuzzUnmarshalRevocationList(f *testing.F) { fuzzType(f, protocol.TypeRevocationList) }
func FuzzUnmarshalLoad(f *testing.F)           { fuzzType(f, protocol.TypeLoad) }
func FuzzUnmarshalRequest(f *testing.F)        { fuzzType(f, protocol.TypeRequest) }
func FuzzUnmarshalPayment(f *testing.F)        { fuzzType(f, protocol.TypePayment) }
func FuzzUnmarshalBundle(f *testing.F)         { fuzzType(f, protocol.TypeBundle) }
func FuzzUnmarshalReceipt(f *testing.F)        { fuzzType(f, protocol.TypeReceipt) }
func FuzzUnmarshalRedeem(f *testing.F)         { fuzzType(f, protocol.TypeRedeem) }
func FuzzUnmarshalLogEntry(f *testing.F)       { fuzzType(f, protocol.TypeLogEntry) }
func FuzzUnmarshalSyncUpload(f *testing.F)     { fuzzType(f, protocol.TypeSyncUpload) }
func FuzzUnmarshalSyncResult(f *testing.F)     { fuzzType(f, protocol.TypeSyncResult) }
func FuzzUnmarshalEnrolment(f *testing.F)      { fuzzType(f, protocol.TypeEnrolment) }
func FuzzUnmarshalReserve(f *testing.F)        { fuzzType(f, protocol.TypeReserve) }
