package qr

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/offpay/offpay/internal/base45"
)

func TestTextRoundTrip(t *testing.T) {
	msg := testMessage(100, 10)
	text := EncodeText(msg)
	if !strings.HasPrefix(text, SinglePrefix) || strings.Trim(text, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") != "" {
		t.Fatalf("text %q is not alphanumeric with the offpay prefix", text)
	}
	got, err := DecodeText(" \n" + text + "\r\n")
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("DecodeText = %x, %v", got, err)
	}
}

func TestDecodeTextErrors(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"https://example.com", ErrNotOffpay},
		{"op1:BB8", ErrNotOffpay},
		{"OPM1:BB8", ErrNotOffpay},
		{"OP1:BB8A", ErrCorrupt},
		{"OP1:", ErrCorrupt},
		{"OP1:GGW", ErrCorrupt},
		{"OP1:bb8", ErrCorrupt},
		{"OP1:" + strings.Repeat("A", MaxTextLen), ErrTooLarge},
		// Only ASCII space, tab, CR and LF around the text are ignored (FORMAT.md).
		{"\u00a0OP1:BB8", ErrNotOffpay},
		{"\vOP1:BB8", ErrNotOffpay},
		{"OP1:BB8\u00a0", ErrCorrupt},
		{"OP1:BB8\u2028", ErrCorrupt},
		{"OP1:BB8\f", ErrCorrupt},
		// Whitespace other than the base45 space inside the text: no wrapping.
		{"OP1:BB\n8", ErrCorrupt},
		{"OP1:BB\r\n8", ErrCorrupt},
		{"OP1:BB\t8", ErrCorrupt},
		{"OP1\n:BB8", ErrNotOffpay},
	}
	for _, c := range cases {
		if _, err := DecodeText(c.in); !errors.Is(err, c.want) {
			t.Errorf("DecodeText(%.20q) error %v, want %v", c.in, err, c.want)
		}
	}
}

func TestMultiFrame(t *testing.T) {
	msg := testMessage(3000, 11)
	frames, err := Split(msg, 300)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 10 {
		t.Fatalf("%d frames for 3000 bytes at 300 characters", len(frames))
	}
	for _, f := range frames {
		if len(f) > 300 || !strings.HasPrefix(f, MultiPrefix) {
			t.Fatalf("frame %q too long or without prefix", f)
		}
	}
	// Shuffled, every frame twice.
	r := rand.New(rand.NewPCG(11, 11))
	order := append(append([]string{}, frames...), frames...)
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var a Assembler
	var p Progress
	for _, f := range order {
		if p, err = a.Add(f); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	got, ok := a.Done()
	if !ok || !bytes.Equal(got, msg) || !p.Complete() || p.Total != len(frames) {
		t.Fatalf("reassembly failed: ok=%v progress=%v", ok, p)
	}
}

func TestMultiFrameMissing(t *testing.T) {
	frames, err := Split(testMessage(3000, 12), 300)
	if err != nil {
		t.Fatal(err)
	}
	var a Assembler
	var p Progress
	for i, f := range frames {
		if i == 3 {
			continue
		}
		if p, err = a.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if p.Have != len(frames)-1 || p.Total != len(frames) || p.Complete() {
		t.Fatalf("progress %v, want %d/%d", p, len(frames)-1, len(frames))
	}
	if _, ok := a.Done(); ok {
		t.Fatal("Done before the last frame")
	}
}

func TestMultiFrameErrors(t *testing.T) {
	framesA, _ := Split(testMessage(1000, 13), 200)
	framesB, _ := Split(testMessage(1000, 14), 200)
	var a Assembler
	if _, err := a.Add(framesA[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Add(framesB[1]); !errors.Is(err, ErrOtherMessage) {
		t.Errorf("frame of another message: %v, want ErrOtherMessage", err)
	}
	if _, err := a.Add(EncodeText([]byte("x"))); !errors.Is(err, ErrOtherMessage) {
		t.Errorf("single frame during a multi-frame message: %v, want ErrOtherMessage", err)
	}
	// A frame with the right id but a tampered chunk of another length.
	tampered, _ := Split(testMessage(1000, 13), 120)
	if _, err := a.Add(tampered[1]); !errors.Is(err, ErrOtherMessage) {
		t.Errorf("frame with another total: %v, want ErrOtherMessage", err)
	}
	for _, bad := range []string{"OPM1:", "OPM1:BB8", "OPM1:bad", "https://x"} {
		if _, err := a.Add(bad); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotOffpay) {
			t.Errorf("Add(%q) error %v", bad, err)
		}
	}
	if p := a.Progress(); p.Have != 1 {
		t.Errorf("progress %v after rejected frames, want 1/n", p)
	}
	if _, err := Split(nil, 300); err == nil {
		t.Error("Split of an empty message succeeded")
	}
	if _, err := Split([]byte{1}, 20); err == nil {
		t.Error("Split with no room for a byte succeeded")
	}
	if _, err := Split(make([]byte, 300*255), 300); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Split needing too many frames: %v", err)
	}
}

func TestMultiFrameIDMismatch(t *testing.T) {
	// Two messages of one length whose frames share a forged id: the hash check on
	// reassembly catches the mix.
	m1, m2 := testMessage(300, 15), testMessage(300, 16)
	f1, _ := Split(m1, 300)
	f2, _ := Split(m2, 300)
	if len(f1) != 2 || len(f2) != 2 {
		t.Fatalf("want 2 frames each, got %d and %d", len(f1), len(f2))
	}
	raw1, _ := decodeFrame(t, f1[0])
	raw2, _ := decodeFrame(t, f2[1])
	copy(raw2[:idLen], raw1[:idLen])
	var a Assembler
	if _, err := a.Add(f1[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Add(encodeFrame(raw2)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("mixed frames: %v, want ErrCorrupt", err)
	}
	if _, ok := a.Done(); ok {
		t.Fatal("mixed frames completed")
	}
}

func TestAssemblerSingle(t *testing.T) {
	var a Assembler
	msg := []byte("payment")
	p, err := a.Add(EncodeText(msg))
	if err != nil || !p.Complete() {
		t.Fatalf("Add single: %v %v", p, err)
	}
	if got, ok := a.Done(); !ok || !bytes.Equal(got, msg) {
		t.Fatal("single frame not done")
	}
	if _, err := a.Add(EncodeText(msg)); err != nil {
		t.Fatalf("same single frame again: %v", err)
	}
}

// TestAssemblerWhitespace: frames get the single-frame whitespace rule, and IsOffpay too.
func TestAssemblerWhitespace(t *testing.T) {
	frames, _ := Split(testMessage(300, 18), 300)
	var a Assembler
	if _, err := a.Add(" " + frames[0] + "\r\n"); err != nil {
		t.Fatalf("frame with surrounding ASCII whitespace: %v", err)
	}
	wrapped := frames[1][:40] + "\n" + frames[1][40:]
	for _, bad := range []string{frames[1] + "\u00a0", wrapped} {
		if _, err := a.Add(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Add(%.50q...) error %v, want ErrCorrupt", bad, err)
		}
	}
	if _, err := a.Add("\u00a0" + frames[1]); !errors.Is(err, ErrNotOffpay) {
		t.Errorf("frame after a no-break space: %v, want ErrNotOffpay", err)
	}
	if p := a.Progress(); p.Have != 1 {
		t.Errorf("progress %v after rejected frames, want 1/n", p)
	}
	if !IsOffpay("\t"+frames[1]) || IsOffpay("\u00a0"+frames[1]) || IsOffpay("\u3000OP1:BB8") {
		t.Error("IsOffpay does not follow the whitespace rule")
	}
}

func FuzzDecodeText(f *testing.F) {
	f.Add(EncodeText([]byte("hello")))
	f.Add("OP1:GGW")
	f.Add("https://example.com")
	f.Add(" OP1:BB8 ")
	f.Fuzz(func(t *testing.T, s string) {
		msg, err := DecodeText(s)
		if err != nil {
			return
		}
		if EncodeText(msg) != strings.Trim(s, " \t\r\n") {
			t.Fatalf("DecodeText(%q) accepted a non-canonical text", s)
		}
	})
}

func FuzzAssembler(f *testing.F) {
	frames, _ := Split(testMessage(200, 17), 100)
	f.Add(frames[0], frames[1], frames[2])
	f.Add(frames[2], frames[0], frames[1])
	f.Add(EncodeText([]byte("x")), "OPM1:", "OPM1:BB8")
	f.Fuzz(func(t *testing.T, a1, a2, a3 string) {
		var a Assembler
		for _, s := range []string{a1, a2, a3} {
			p, _ := a.Add(s)
			if p.Have > p.Total || p.Have < 0 {
				t.Fatalf("progress %v", p)
			}
		}
		msg, ok := a.Done()
		if !ok {
			return
		}
		// Whatever completes must be a message whose frames or text were given.
		fr, err := Split(msg, MaxTextLen)
		if err != nil {
			t.Fatal(err)
		}
		var b Assembler
		for _, s := range fr {
			b.Add(s)
		}
		if got, _ := b.Done(); !bytes.Equal(got, msg) {
			t.Fatal("completed message does not re-split to itself")
		}
	})
}

func decodeFrame(t *testing.T, f string) ([]byte, error) {
	t.Helper()
	raw, err := base45.Decode(strings.TrimPrefix(f, MultiPrefix))
	if err != nil {
		t.Fatal(err)
	}
	return raw, nil
}

func encodeFrame(raw []byte) string { return MultiPrefix + base45.Encode(raw) }
