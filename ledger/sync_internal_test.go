package ledger

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"pgregory.net/rapid"
)

func TestMarshalEntryMatchesCanonical(t *testing.T) {
	k := prototest.Ed25519Key("me")
	for _, body := range [][]byte{{}, {1}, bytes.Repeat([]byte{7}, 300)} {
		e := protocol.LogEntry{Version: protocol.Version, Counter: 3, Kind: protocol.EntryPay, Time: 99, Body: body}
		if err := e.Sign(k); err != nil {
			t.Fatal(err)
		}
		if got, want := marshalEntry(e.SigningInput(), &e), e.Marshal(); !bytes.Equal(got, want) {
			t.Fatalf("marshalEntry differs from Marshal for a %d-byte body", len(body))
		}
	}
}

// TestUploadInputMatchesCanonical: the upload's signing input assembled
// from its entries' encodings is byte for byte the one encoding gives, for
// every size of the entries array's header (0, 1, 23 | 24, 255 | 256).
func TestUploadInputMatchesCanonical(t *testing.T) {
	d := ledgertest.NewDevice("ui", "EUR")
	d.Cert = &protocol.Certificate{Version: protocol.Version, KeyAlg: d.Key.Alg(), Key: d.Key.PublicKey()}
	for d.Counter() < 300 {
		d.Pay(d.ID, 1)
	}
	for _, n := range []uint64{0, 1, 23, 24, 255, 256, 300} {
		up := d.Upload(1, n)
		if n == 0 {
			up = d.Sign(&protocol.SyncUpload{Version: protocol.Version, Device: d.ID, Time: d.Time})
		}
		u := &upload{entries: make([]upEntry, len(up.Entries))}
		for i := range up.Entries {
			u.entries[i].data = up.Entries[i].Marshal()
		}
		if got := uploadInput(up, u); !bytes.Equal(got, up.SigningInput()) {
			t.Fatalf("%d entries: assembled signing input differs", n)
		}
	}
}

// TestSigInputMatchesCanonical: a payment's and a receipt's signing input
// derived from their encodings equal the encoded ones; anything else
// than a trailing 64-byte signature gives nil.
func TestSigInputMatchesCanonical(t *testing.T) {
	d := ledgertest.NewDevice("si", "EUR")
	d.Cert = &protocol.Certificate{Version: protocol.Version, KeyAlg: d.Key.Alg(), Key: d.Key.PublicKey()}
	b := d.Pay(d.ID, 5)
	p := &b.Payment
	if got := sigInput(protocol.CtxPayment, p.Marshal(), p.Sig); !bytes.Equal(got, p.SigningInput()) {
		t.Fatal("payment signing input differs")
	}
	r := d.Receipt(b)
	if got := sigInput(protocol.CtxReceipt, r.Marshal(), r.Sig); !bytes.Equal(got, r.SigningInput()) {
		t.Fatal("receipt signing input differs")
	}
	other := append([]byte(nil), r.Sig...)
	other[0] ^= 1
	if sigInput(protocol.CtxReceipt, r.Marshal(), other) != nil || sigInput(protocol.CtxReceipt, r.Marshal()[:10], r.Sig) != nil {
		t.Fatal("sigInput accepted an encoding that does not end with the signature")
	}
}

// TestEntryInputMatchesCanonical: the hand-encoded signing input of a log
// entry equals the protocol package's, for values around every CBOR head
// size.
func TestEntryInputMatchesCanonical(t *testing.T) {
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
		if got, want := entryInput(&e), e.SigningInput(); !bytes.Equal(got, want) {
			rt.Fatalf("entryInput %x\nSigningInput %x", got, want)
		}
	})
}
