package base45

import (
	"bytes"
	"errors"
	"testing"
)

// Vectors from RFC 9285 section 4.
var rfcVectors = []struct{ plain, encoded string }{
	{"AB", "BB8"},
	{"Hello!!", "%69 VD92EX0"},
	{"base-45", "UJCLQE7W581"},
	{"ietf!", "QED8WEX0"},
	{"", ""},
}

func TestRFCVectors(t *testing.T) {
	for _, v := range rfcVectors {
		if got := Encode([]byte(v.plain)); got != v.encoded {
			t.Errorf("Encode(%q) = %q, want %q", v.plain, got, v.encoded)
		}
		got, err := Decode(v.encoded)
		if err != nil || string(got) != v.plain {
			t.Errorf("Decode(%q) = %q, %v; want %q", v.encoded, got, err, v.plain)
		}
	}
}

func TestEdgeValues(t *testing.T) {
	for _, in := range [][]byte{{0}, {0xff}, {0, 0}, {0xff, 0xff}, {0xff, 0xff, 0xff}} {
		enc := Encode(in)
		if len(enc) != EncodedLen(len(in)) {
			t.Errorf("len(Encode(%x)) = %d, want %d", in, len(enc), EncodedLen(len(in)))
		}
		out, err := Decode(enc)
		if err != nil || !bytes.Equal(out, in) {
			t.Errorf("round trip %x: %x, %v", in, out, err)
		}
	}
	if got := Encode([]byte{0xff, 0xff}); got != "FGW" {
		t.Errorf("Encode(ffff) = %q, want FGW", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		in, reason string
		offset     int
	}{
		{"A", "bad length", 0},
		{"BB8A", "bad length", 3},
		{"GGW", "value overflow", 0},    // 65536
		{"BB8:::", "value overflow", 3}, // 44+44*45+44*2025
		{"U8", "value overflow", 0},     // 30+8*45 = 390 > 255
		{"bb8", "invalid character", 0},
		{"BB\x00", "invalid character", 2},
		{"BB8AB\xff", "invalid character", 5},
	}
	for _, c := range cases {
		_, err := Decode(c.in)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Reason != c.reason || ce.Offset != c.offset {
			t.Errorf("Decode(%q) error = %v, want %s at %d", c.in, err, c.reason, c.offset)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q): error does not match ErrInvalid", c.in)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add([]byte(v.plain))
	}
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		enc := Encode(in)
		out, err := Decode(enc)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("round trip %x: %x, %v", in, out, err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add(v.encoded)
	}
	f.Add("GGW")
	f.Add("A")
	f.Add("FGW::")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Decode(s)
		if err != nil {
			return
		}
		if re := Encode(out); re != s {
			t.Fatalf("Decode(%q) accepted but re-encodes to %q", s, re)
		}
	})
}
