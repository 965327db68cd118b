package protocol_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/vectors"
)

// vectorDir holds the spec's vectors, relative to this package.
const vectorDir = "../spec/vectors"

// typeNames maps a vector's message_type to its envelope type.
var typeNames = map[string]protocol.Type{
	"certificate":       protocol.TypeCertificate,
	"revocation_list":   protocol.TypeRevocationList,
	"load":              protocol.TypeLoad,
	"payment_request":   protocol.TypeRequest,
	"payment":           protocol.TypePayment,
	"payment_bundle":    protocol.TypeBundle,
	"receipt":           protocol.TypeReceipt,
	"redeem":            protocol.TypeRedeem,
	"log_entry":         protocol.TypeLogEntry,
	"sync_upload":       protocol.TypeSyncUpload,
	"sync_result":       protocol.TypeSyncResult,
	"enrolment_request": protocol.TypeEnrolment,
	"reserve_request":   protocol.TypeReserve,
	"sync_applied":      protocol.TypeSyncApplied,
	"online_payment":    protocol.TypeOnlinePayment,
	"online_receipt":    protocol.TypeOnlineReceipt,
}

// loadVectors reads every vector file; it fails the test if there are none.
func loadVectors(t testing.TB) []vectors.Vector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no vectors in %s", vectorDir)
	}
	sort.Strings(files)
	var out []vectors.Vector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vectors.Vector
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.Name+".json" != filepath.Base(f) {
			t.Fatalf("%s: name %q does not match the file", f, v.Name)
		}
		out = append(out, v)
	}
	return out
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

// openCert opens a certificate envelope given as an input (an anchor or a
// signer), which must be well-formed.
func openCert(t testing.TB, s string) *protocol.Certificate {
	t.Helper()
	var c protocol.Certificate
	if err := protocol.OpenAs(unhex(t, s), &c); err != nil {
		t.Fatalf("input certificate: %v", err)
	}
	return &c
}

// trustOf builds the verifier's trust store from the vector's anchors.
func trustOf(t testing.TB, in vectors.Input) *protocol.Trust {
	t.Helper()
	var roots []*protocol.Certificate
	for _, r := range in.RootsHex {
		roots = append(roots, openCert(t, r))
	}
	tr, err := protocol.NewTrust(roots...)
	if err != nil {
		t.Fatalf("input roots: %v", err)
	}
	for _, i := range in.IssuersHex {
		if err := tr.AddIssuer(openCert(t, i)); err != nil {
			t.Fatalf("input issuer: %v", err)
		}
	}
	return tr
}

// revList opens the vector's revocation list (nil if absent) and checks
// that it is signed by a trusted key: a verifier only holds such lists.
func revList(t testing.TB, in vectors.Input, tr *protocol.Trust) *protocol.RevocationList {
	t.Helper()
	if in.RevocationListHex == "" {
		return nil
	}
	var rl protocol.RevocationList
	if err := protocol.OpenAs(unhex(t, in.RevocationListHex), &rl); err != nil {
		t.Fatalf("input revocation list: %v", err)
	}
	if err := tr.VerifyRevocationList(&rl); err != nil {
		t.Fatalf("input revocation list: %v", err)
	}
	return &rl
}

// verifyMessage applies the check SPEC.md's "Running the vectors" names
// for m's type, after decoding succeeded.
func verifyMessage(t testing.TB, v vectors.Vector, m protocol.Message) error {
	in := v.Input
	signer := func() *protocol.Certificate { return openCert(t, in.SignerCertHex) }
	switch m := m.(type) {
	case *protocol.Certificate:
		switch m.Role {
		case protocol.RoleRoot:
			_, err := protocol.NewTrust(m)
			return err
		case protocol.RoleIssuer:
			return trustOf(t, in).AddIssuer(m)
		default:
			tr := trustOf(t, in)
			return tr.VerifyDevice(m, in.Now, revList(t, in, tr))
		}
	case *protocol.RevocationList:
		return trustOf(t, in).VerifyRevocationList(m)
	case *protocol.PaymentBundle:
		tr := trustOf(t, in)
		pc := protocol.PayeeCheck{Trust: tr, RevList: revList(t, in, tr), Now: in.Now}
		if in.Payee == nil {
			t.Fatal("payment_bundle vector without the payee's view")
		}
		self, err := protocol.ParseKeyID(in.Payee.SelfKeyIDHex)
		if err != nil {
			t.Fatal(err)
		}
		pc.Self, pc.Currency, pc.MaxRLAge = self, in.Payee.Currency, in.Payee.MaxRevListAge
		return protocol.CheckBundle(m, pc)
	case *protocol.PaymentRequest:
		return m.Verify()
	case *protocol.EnrolmentRequest:
		return m.Verify()
	case *protocol.Payment:
		return m.Verify(signer())
	case *protocol.Receipt:
		return m.Verify(signer())
	case *protocol.Redeem:
		return m.Verify(signer())
	case *protocol.LogEntry:
		return m.Verify(signer())
	case *protocol.SyncUpload:
		return m.Verify(signer())
	case *protocol.ReserveRequest:
		return m.Verify(signer())
	case *protocol.Load:
		return m.Verify(signer())
	case *protocol.SyncResult:
		return m.Verify(signer())
	case *protocol.OnlinePayment:
		if err := m.Request.Verify(); err != nil {
			return err
		}
		return m.Verify(signer())
	case *protocol.OnlineReceipt:
		return m.Verify(signer())
	case *protocol.SyncApplied:
		return nil // unsigned: the EntrySync log entry that carries it is signed
	case *protocol.Attestation:
		return protocol.CheckAttestation(m, manufacturers(t, in))
	case *protocol.AttestedEnrolment:
		if err := m.Request.Verify(); err != nil {
			return err
		}
		return protocol.CheckAttestation(&m.Attestation, manufacturers(t, in))
	}
	t.Fatalf("no check for %T", m)
	return nil
}

// checkOutput compares a valid message's derived values with the vector.
func checkOutput(t testing.TB, v vectors.Vector, env []byte, m protocol.Message) {
	t.Helper()
	if !bytes.Equal(protocol.Seal(m), env) {
		t.Fatal("accepted envelope does not re-seal to the same bytes")
	}
	o := v.Output
	if o == nil {
		return
	}
	type signable interface{ SigningInput() []byte }
	want := map[string]string{}
	got := map[string]string{}
	if o.SigningInputHex != "" {
		want["signing input"] = o.SigningInputHex
		s, ok := m.(signable)
		if b, isBundle := m.(*protocol.PaymentBundle); isBundle {
			s, ok = &b.Payment, true
		}
		if ok {
			got["signing input"] = hex.EncodeToString(s.SigningInput())
		}
	}
	if o.KeyIDHex != "" {
		want["key id"] = o.KeyIDHex
		if c, ok := m.(*protocol.Certificate); ok {
			got["key id"] = c.ID().String()
		}
	}
	if o.PaymentIDHex != "" {
		want["payment id"] = o.PaymentIDHex
		switch p := m.(type) {
		case *protocol.Payment:
			got["payment id"] = p.ID().String()
		case *protocol.PaymentBundle:
			got["payment id"] = p.Payment.ID().String()
		case *protocol.OnlinePayment:
			got["payment id"] = p.ID().String()
		}
	}
	if o.EntryHashHex != "" {
		want["entry hash"] = o.EntryHashHex
		if e, ok := m.(*protocol.LogEntry); ok {
			got["entry hash"] = e.Hash().String()
		}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %s, want %s", k, got[k], w)
		}
	}
}

// moneyClass maps a ParseAmount error to its vector class.
func moneyClass(err error) string {
	switch {
	case err == nil:
		return vectors.Valid
	case errors.Is(err, offpay.ErrBadAmount):
		return vectors.MoneyMalformed
	case errors.Is(err, offpay.ErrUnknownCurrency):
		return vectors.MoneyUnknownCurrency
	case errors.Is(err, offpay.ErrTooManyDecimals):
		return vectors.MoneyTooManyDecimals
	case errors.Is(err, offpay.ErrOverflow):
		return vectors.MoneyOverflow
	}
	return "unexpected: " + err.Error()
}

// runVector returns the class the real implementation gives v ("valid" if
// it accepts) and checks a valid vector's outputs.
func runVector(t testing.TB, v vectors.Vector) string {
	in := v.Input
	class := func(err error) string {
		if err == nil {
			return vectors.Valid
		}
		if c := protocol.ClassOf(err); c != "" {
			return string(c)
		}
		return "unclassified: " + err.Error()
	}
	switch v.MessageType {
	case "ed25519", "ecdsa_p256":
		alg := protocol.AlgEd25519
		if v.MessageType == "ecdsa_p256" {
			alg = protocol.AlgECDSAP256
		}
		return class(protocol.VerifySignature(alg, unhex(t, in.PubkeyHex), unhex(t, in.MsgHex), unhex(t, in.SigHex)))
	case "amount":
		a, err := offpay.ParseAmount(in.Text)
		if err == nil && v.Output != nil && (v.Output.Minor == nil || a.Minor != *v.Output.Minor || a.Currency != v.Output.Currency) {
			t.Errorf("parsed %d %s", a.Minor, a.Currency)
		}
		return moneyClass(err)
	case "envelope":
		_, err := protocol.Open(unhex(t, in.EnvelopeHex))
		return class(err)
	case "qr_text":
		return runQRText(t, v)
	}
	typ, ok := typeNames[v.MessageType]
	if !ok {
		t.Fatalf("unknown message_type %q", v.MessageType)
	}
	m, err := protocol.New(typ)
	if err != nil {
		t.Fatal(err)
	}
	env := unhex(t, in.EnvelopeHex)
	if err := protocol.OpenAs(env, m); err != nil {
		return class(err)
	}
	if err := verifyMessage(t, v, m); err != nil {
		return class(err)
	}
	checkOutput(t, v, env, m)
	return vectors.Valid
}

// TestVectors runs every vector file through the real decoder and
// verifier and requires exactly the expected result.
func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	invalid, valid, expected := 0, map[string]bool{}, map[string]bool{}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			if got := runVector(t, v); got != v.Expect {
				t.Fatalf("got %s, want %s (%s)", got, v.Expect, v.Description)
			}
		})
		expected[v.Expect] = true
		if v.Expect == vectors.Valid {
			valid[v.MessageType] = true
		} else {
			invalid++
		}
	}
	if len(vs) < 60 || invalid < 30 {
		t.Fatalf("%d vectors, %d invalid: want at least 60 and 30", len(vs), invalid)
	}
	for name := range typeNames {
		if !valid[name] {
			t.Errorf("no valid vector for %s", name)
		}
	}
	for _, c := range allClasses {
		if !expected[string(c)] {
			t.Errorf("no vector expects class %s", c)
		}
	}
}

// allClasses are the classes of errors.go; each must be some vector's
// expected result, so that SPEC.md's every class is pinned by a case.
var allClasses = []protocol.Class{
	protocol.ClassMalformed, protocol.ClassNonCanonical, protocol.ClassTrailingBytes, protocol.ClassOversize,
	protocol.ClassUnknownVersion, protocol.ClassUnknownType, protocol.ClassUnknownAlg, protocol.ClassBadKey,
	protocol.ClassBadSignature, protocol.ClassBadField, protocol.ClassAmount, protocol.ClassCurrency,
	protocol.ClassExpired, protocol.ClassNotYetValid, protocol.ClassUntrusted, protocol.ClassRevoked,
	protocol.ClassWrongPayee, protocol.ClassLimit, protocol.ClassStaleRevList, protocol.ClassBadChain,
}

// TestVectorsMatchGenerator fails when the files drift from the generator:
// run `go run ./protocol/vectors/gen` after changing either.
func TestVectorsMatchGenerator(t *testing.T) {
	want := vectors.Files()
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("%s is not produced by the generator", name)
		case !bytes.Equal(b, w):
			t.Errorf("%s differs from the generator's output", name)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s is missing from %s", name, vectorDir)
		}
	}
}

// TestBatchAgreesOnEd25519Vectors checks that batch verification gives
// every Ed25519 vector the answer single verification gives: alone in
// batches of identical copies (so an all-valid batch takes the batch
// equation) and all together.
func TestBatchAgreesOnEd25519Vectors(t *testing.T) {
	var eds []vectors.Vector
	for _, v := range loadVectors(t) {
		if v.MessageType == "ed25519" {
			eds = append(eds, v)
		}
	}
	if len(eds) < 200 {
		t.Fatalf("only %d Ed25519 vectors", len(eds))
	}
	args := func(v vectors.Vector) (key, msg, sig []byte) {
		return unhex(t, v.Input.PubkeyHex), unhex(t, v.Input.MsgHex), unhex(t, v.Input.SigHex)
	}
	all := protocol.NewBatch(len(eds))
	for _, v := range eds {
		key, msg, sig := args(v)
		single := protocol.VerifySignature(protocol.AlgEd25519, key, msg, sig) == nil
		b := protocol.NewBatch(8)
		for i := 0; i < 8; i++ {
			b.Add(protocol.AlgEd25519, key, msg, sig)
		}
		for i, err := range b.Verify() {
			if (err == nil) != single {
				t.Errorf("%s copy %d: batch %v, single valid=%v", v.Name, i, err, single)
			}
		}
		all.Add(protocol.AlgEd25519, key, msg, sig)
	}
	for i, err := range all.Verify() {
		key, msg, sig := args(eds[i])
		if single := protocol.VerifySignature(protocol.AlgEd25519, key, msg, sig) == nil; (err == nil) != single {
			t.Errorf("%s in the mixed batch: batch %v, single valid=%v", eds[i].Name, err, single)
		}
	}
}

func init() {
	typeNames["attestation"] = protocol.TypeAttestation
	typeNames["attested_enrolment"] = protocol.TypeAttestedEnrolment
}

func manufacturers(t testing.TB, in vectors.Input) []protocol.Manufacturer {
	var out []protocol.Manufacturer
	for _, m := range in.Manufacturers {
		mf := protocol.Manufacturer{KeyAlg: protocol.Alg(m.KeyAlg), Key: unhex(t, m.KeyHex), Revoked: m.Revoked}
		for _, c := range m.Classes {
			mf.Classes = append(mf.Classes, protocol.SEClass(c))
		}
		out = append(out, mf)
	}
	return out
}
