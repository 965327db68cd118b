package sqlstore

import (
	"bytes"
	stdflate "compress/flate"
	"io"
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
	// Raw DEFLATE, as the standard library reads it: a ledger binary from
	// before (which packed with compress/flate) reads these rows too.
	packed := packPayload(big)
	std, err := io.ReadAll(stdflate.NewReader(bytes.NewReader(packed[len(packedMagic):])))
	if err != nil || !bytes.Equal(std, big) {
		t.Fatalf("compress/flate reads back %d bytes: %v", len(std), err)
	}
	var old bytes.Buffer
	w, _ := stdflate.NewWriter(&old, stdflate.BestSpeed)
	w.Write(big)
	w.Close()
	if got, err := unpackPayload(append(append([]byte(nil), packedMagic...), old.Bytes()...)); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("a row packed by compress/flate: %v", err)
	}
	damaged := append([]byte(nil), packPayload(big)...)
	damaged = damaged[:len(damaged)/2]
	if _, err := unpackPayload(damaged); err == nil {
		t.Fatal("a truncated compressed payload read without error")
	}
}

// BenchmarkPackPayload compresses a payment's notification of the usual
// size, as the serial part of settlement does on SQLite for each one.
func BenchmarkPackPayload(b *testing.B) {
	p := []byte(`{"kind":"payment_settled","account":"alice","device":"8f2c41d0a9e3b7c6","payment":{"id":"4f1c2a9e0b7d6c5a4f1c2a9e0b7d6c5a4f1c2a9e0b7d6c5a4f1c2a9e0b7d6c5a","payer":"8f2c41d0a9e3b7c6d5e4f3a2b1c0d9e8","payee":"1a2b3c4d5e6f708192a3b4c5d6e7f801","amount":125,"currency":"EUR","counter":17,"time":"2026-12-06T17:21:00Z"},"balance":{"available":9875,"held":0,"reserved":10000},"seq":42,"created_at":"2026-12-06T17:21:03.123456Z","ledger":"offpay"}`)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		packPayload(p)
	}
}
