package protocol_test

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"pgregory.net/rapid"
)

// signedLog returns n signed, chained log entries of a device whose key derives
// from label, and the key.
func signedLog(t *testing.T, label string, n int) ([]protocol.LogEntry, protocol.Signer) {
	t.Helper()
	k := prototest.Ed25519Key(label)
	id := protocol.ComputeKeyID(k.Alg(), k.PublicKey())
	var es []protocol.LogEntry
	var prev protocol.Hash
	for i := range n {
		e := protocol.LogEntry{Version: protocol.Version, Device: id, Counter: uint64(i + 1), Prev: prev,
			Kind: protocol.EntryPay, Time: prototest.Epoch + uint64(i), Body: bytes.Repeat([]byte{byte(i)}, 100)}
		if err := e.Sign(k); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash()
		es = append(es, e)
	}
	return es, k
}

func TestEntryEncodingMatchesCanonical(t *testing.T) {
	k := prototest.Ed25519Key("me")
	for _, body := range [][]byte{{}, {1}, bytes.Repeat([]byte{7}, 300)} {
		e := protocol.LogEntry{Version: protocol.Version, Counter: 3, Kind: protocol.EntryPay, Time: 99, Body: body}
		if err := e.Sign(k); err != nil {
			t.Fatal(err)
		}
		if got, want := protocol.EntryEncoding(e.SigningInput(), &e), e.Marshal(); !bytes.Equal(got, want) {
			t.Fatalf("EntryEncoding differs from Marshal for a %d-byte body", len(body))
		}
	}
}

// TestUploadSigningInputMatchesCanonical: the upload's signing input
// assembled from its entries' encodings is byte for byte the one encoding
// gives, for every size of the entries array's header (0, 1, 23 | 24,
// 255 | 256).
func TestUploadSigningInputMatchesCanonical(t *testing.T) {
	es, k := signedLog(t, "ui", 300)
	for _, n := range []int{0, 1, 23, 24, 255, 256, 300} {
		up := &protocol.SyncUpload{Version: protocol.Version, Device: es[0].Device, Time: prototest.Epoch + 400, Entries: es[:n]}
		if n == 0 {
			up.Entries = nil
		}
		if err := up.Sign(k); err != nil {
			t.Fatal(err)
		}
		enc := make([][]byte, len(up.Entries))
		for i := range up.Entries {
			enc[i] = up.Entries[i].Marshal()
		}
		if got := protocol.UploadSigningInput(up, enc); !bytes.Equal(got, up.SigningInput()) {
			t.Fatalf("%d entries: assembled signing input differs", n)
		}
	}
}

// TestSigningInputFromEncodingMatchesCanonical: a payment's and a
// receipt's signing input derived from their encodings equal the encoded
// ones; anything else than a trailing 64-byte signature gives nil.
func TestSigningInputFromEncodingMatchesCanonical(t *testing.T) {
	k := prototest.Ed25519Key("si")
	id := protocol.ComputeKeyID(k.Alg(), k.PublicKey())
	p := &protocol.Payment{Version: protocol.Version, Payer: id, Payee: id, Amount: 5, Currency: "EUR", Counter: 1, Time: prototest.Epoch, Hops: 1}
	if err := p.Sign(k); err != nil {
		t.Fatal(err)
	}
	if got := protocol.SigningInputFromEncoding(protocol.CtxPayment, p.Marshal(), p.Sig); !bytes.Equal(got, p.SigningInput()) {
		t.Fatal("payment signing input differs")
	}
	r := &protocol.Receipt{Version: protocol.Version, Payment: p.ID(), Payee: id, Counter: 2, Time: prototest.Epoch + 1}
	if err := r.Sign(k); err != nil {
		t.Fatal(err)
	}
	if got := protocol.SigningInputFromEncoding(protocol.CtxReceipt, r.Marshal(), r.Sig); !bytes.Equal(got, r.SigningInput()) {
		t.Fatal("receipt signing input differs")
	}
	other := append([]byte(nil), r.Sig...)
	other[0] ^= 1
	if protocol.SigningInputFromEncoding(protocol.CtxReceipt, r.Marshal(), other) != nil ||
		protocol.SigningInputFromEncoding(protocol.CtxReceipt, r.Marshal()[:10], r.Sig) != nil {
		t.Fatal("SigningInputFromEncoding accepted an encoding that does not end with the signature")
	}
}

// TestEntrySigningInputMatchesCanonical: the directly encoded signing
// input of a log entry equals SigningInput's, for values around every
// CBOR head size.
func TestEntrySigningInputMatchesCanonical(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		num := rapid.OneOf(rapid.Uint64Range(0, 300), rapid.Uint64Range(65530, 65540),
			rapid.Uint64Range(1<<32-3, 1<<32+3), rapid.Uint64())
		e := protocol.LogEntry{
			Version: uint8(num.Draw(rt, "version")),
			Counter: num.Draw(rt, "counter"),
			Kind:    protocol.EntryKind(num.Draw(rt, "kind")),
			Time:    num.Draw(rt, "time"),
			Body:    rapid.SliceOfN(rapid.Byte(), 0, 700).Draw(rt, "body"),
			SigAlg:  protocol.Alg(num.Draw(rt, "alg")),
			Sig:     rapid.SliceOfN(rapid.Byte(), 0, 80).Draw(rt, "sig"),
		}
		copy(e.Device[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(rt, "device"))
		copy(e.Prev[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(rt, "prev"))
		if got, want := protocol.EntrySigningInput(&e), e.SigningInput(); !bytes.Equal(got, want) {
			rt.Fatalf("EntrySigningInput %x\nSigningInput %x", got, want)
		}
	})
}
