package protocol

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestVersionPeekFastPathAgrees: the version peek's fast path (a first
// element that is the byte 0x01) gives the answer of the full parse on
// every vector's message and on many mutations of them: byte flips,
// truncations, extra bytes, other array heads.
func TestVersionPeekFastPathAgrees(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "spec", "vectors", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	var msgs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Input struct {
				EnvelopeHex string `json:"envelope_hex"`
			} `json:"input"`
		}
		if json.Unmarshal(b, &v) != nil {
			continue
		}
		if env, err := hex.DecodeString(v.Input.EnvelopeHex); err == nil && len(env) > 1 {
			msgs = append(msgs, env[1:])
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	fast, n := 0, 0
	check := func(m []byte) {
		for _, nested := range []bool{false, true} {
			n++
			if versionOne(m, nested) {
				fast++
			}
			got, want := peekVersion(m, nested), peekVersionSlow(m, nested)
			if (got == nil) != (want == nil) {
				t.Fatalf("peek of %x (nested %v): fast path says %v, full parse %v", m, nested, got, want)
			}
		}
	}
	for _, m := range msgs {
		check(m)
		for range 40 {
			x := append([]byte(nil), m...)
			switch r.IntN(4) {
			case 0:
				x[r.IntN(len(x))] ^= byte(1 << r.IntN(8))
			case 1:
				x = x[:r.IntN(len(x))]
			case 2:
				x = append(x, byte(r.IntN(256)))
			case 3:
				heads := [][]byte{{0x80}, {0x98, 0}, {0x99, 0, 0}, {0x9f}, {0x81}, {0x98, 1}, {0x9b, 0, 0, 0, 0, 0, 0, 0, 1}}
				x = append(append([]byte(nil), heads[r.IntN(len(heads))]...), x[min(1, len(x)):]...)
			}
			check(x)
		}
	}
	if fast == 0 || fast == n {
		t.Fatalf("fast path taken %d of %d times: the test exercises only one path", fast, n)
	}
}
