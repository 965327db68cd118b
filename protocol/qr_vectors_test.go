package protocol_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol/vectors"
	"github.com/offpay/offpay/transport/qr"
)

// runQRText decodes a qr_text vector's single-frame text with the real
// transport/qr decoder and, when valid, compares the envelope it carries.
func runQRText(t testing.TB, v vectors.Vector) string {
	env, err := qr.DecodeText(v.Input.Text)
	switch {
	case err == nil:
		if v.Output == nil || !bytes.Equal(env, unhex(t, v.Output.EnvelopeHex)) {
			t.Errorf("decoded %x", env)
		}
		return vectors.Valid
	case errors.Is(err, qr.ErrNotOffpay):
		return vectors.QRNotOffpay
	case errors.Is(err, qr.ErrCorrupt):
		return vectors.QRCorrupt
	case errors.Is(err, qr.ErrTooLarge):
		return vectors.QRTooLarge
	}
	return "unexpected: " + err.Error()
}
