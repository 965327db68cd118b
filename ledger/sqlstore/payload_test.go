package sqlstore

import (
	"bytes"
	"strings"
	"testing"
)

// TestPayloadPacking: a notification payload comes back byte for byte
// whether it was stored compressed or as written (rows from before), it
// is stored smaller when compression helps, and damaged compressed bytes
// are an error, not a wrong payload.
func TestPayloadPacking(t *testing.T) {
	big := []byte(`{"kind":"payment_settled","payments":[` + strings.Repeat(`{"id":"4f1c2a9e","amount":125},`, 200) + `{}]}`)
	for _, p := range [][]byte{nil, []byte(`{}`), big, bytes.Repeat([]byte{0xff}, 300)} {
		packed := packPayload(p)
		got, err := unpackPayload(packed)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("payload of %d bytes: got %d bytes back, %v", len(p), len(got), err)
		}
	}
	if packed := packPayload(big); len(packed) >= len(big)/3 {
		t.Fatalf("a repetitive payload of %d bytes packed to %d", len(big), len(packed))
	}
	if got, err := unpackPayload(big); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("a payload stored as written: %v", err)
	}
	damaged := append([]byte(nil), packPayload(big)...)
	damaged = damaged[:len(damaged)/2]
	if _, err := unpackPayload(damaged); err == nil {
		t.Fatal("a truncated compressed payload read without error")
	}
}
