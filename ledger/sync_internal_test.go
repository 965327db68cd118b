package ledger

import (
	"bytes"
	"testing"

	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
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
