package qr_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/offpay/offpay/transport/qr"
)

// TestEnrolCodeImage: an enrolment code and its ledger's URL survive a
// real QR image, and a foreign or broken form is refused.
func TestEnrolCodeImage(t *testing.T) {
	text := qr.EncodeEnrol("alice", "K7M2Q-XR4TB-9WZ3H-PC6DN", "https://ledger.example:8420")
	img, err := qr.PNG(text, qr.M, 6)
	if err != nil {
		t.Fatal(err)
	}
	got, err := qr.DecodeImage(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	account, code, url, err := qr.DecodeEnrol(got)
	if err != nil || account != "alice" || code != "K7M2Q-XR4TB-9WZ3H-PC6DN" || url != "https://ledger.example:8420" {
		t.Fatalf("%q %q %q %v", account, code, url, err)
	}
	if _, _, _, err := qr.DecodeEnrol("OP1:ABC"); !errors.Is(err, qr.ErrNotOffpay) {
		t.Fatalf("a payment form: %v", err)
	}
	if _, _, _, err := qr.DecodeEnrol("OPE1:alice/nourl"); !errors.Is(err, qr.ErrCorrupt) {
		t.Fatalf("no url: %v", err)
	}
}
