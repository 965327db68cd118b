package sound

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// wavOf builds a WAV file by hand: fmt fields and raw data.
func wavOf(format, channels uint16, rate uint32, bits uint16, data []byte, extensible bool) []byte {
	var b bytes.Buffer
	fmtLen := uint32(16)
	if extensible {
		fmtLen = 40
	}
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+fmtLen+8+uint32(len(data))))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, fmtLen)
	tag := format
	if extensible {
		tag = 0xFFFE
	}
	binary.Write(&b, binary.LittleEndian, tag)
	binary.Write(&b, binary.LittleEndian, channels)
	binary.Write(&b, binary.LittleEndian, rate)
	binary.Write(&b, binary.LittleEndian, rate*uint32(channels)*uint32(bits/8))
	binary.Write(&b, binary.LittleEndian, channels*bits/8)
	binary.Write(&b, binary.LittleEndian, bits)
	if extensible {
		binary.Write(&b, binary.LittleEndian, uint16(22))
		binary.Write(&b, binary.LittleEndian, bits)
		binary.Write(&b, binary.LittleEndian, uint32(0))
		binary.Write(&b, binary.LittleEndian, format)
		b.Write(make([]byte, 14))
	}
	b.WriteString("LIST") // a chunk to skip, odd-sized with its pad byte
	binary.Write(&b, binary.LittleEndian, uint32(3))
	b.Write([]byte{1, 2, 3, 0})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func TestWAVFormats(t *testing.T) {
	f32 := func(v ...float32) []byte {
		var b bytes.Buffer
		for _, x := range v {
			binary.Write(&b, binary.LittleEndian, math.Float32bits(x))
		}
		return b.Bytes()
	}
	cases := []struct {
		name string
		wav  []byte
		want []float64
	}{
		{"pcm8", wavOf(1, 1, 8000, 8, []byte{128, 192, 64}, false), []float64{0, 0.5, -0.5}},
		{"pcm16 stereo averaged", wavOf(1, 2, 44100, 16, []byte{0x00, 0x40, 0x00, 0x00}, false), []float64{0.25}},
		{"pcm24", wavOf(1, 1, 48000, 24, []byte{0, 0, 0x40}, false), []float64{0.5}},
		{"pcm32 extensible", wavOf(1, 1, 48000, 32, []byte{0, 0, 0, 0xC0}, true), []float64{-0.5}},
		{"float32", wavOf(3, 1, 96000, 32, f32(0.25, -1), false), []float64{0.25, -1}},
	}
	for _, c := range cases {
		got, _, err := ParseWAV(c.wav)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %v, want %v", c.name, got, c.want)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-9 {
				t.Fatalf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"not riff":      []byte("RIFX0000WAVEfmt "),
		"no data":       wavOf(1, 1, 8000, 16, nil, false)[:44],
		"alaw":          wavOf(6, 1, 8000, 8, []byte{1}, false),
		"zero channels": wavOf(1, 0, 8000, 16, []byte{1, 2}, false),
	} {
		if _, _, err := ParseWAV(b); !errors.Is(err, ErrWAV) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWAVRoundTrip(t *testing.T) {
	x := []float64{0, 0.5, -0.5, 1, -1, 2, -2}
	var b bytes.Buffer
	if err := WriteWAV(&b, x, 48000); err != nil {
		t.Fatal(err)
	}
	y, rate, err := ReadWAV(&b)
	if err != nil || rate != 48000 || len(y) != len(x) {
		t.Fatalf("%v %d %d", err, rate, len(y))
	}
	for i, v := range x {
		if math.Abs(math.Max(-1, math.Min(1, v))-y[i]) > 1e-4 {
			t.Fatalf("sample %d: %v for %v", i, y[i], v)
		}
	}
}

// FuzzParseWAV: any bytes are read or refused with ErrWAV, never a panic.
func FuzzParseWAV(f *testing.F) {
	f.Add(wavOf(1, 1, 48000, 16, []byte{1, 2, 3, 4}, false))
	f.Add(wavOf(3, 2, 44100, 32, make([]byte, 16), true))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, err := ParseWAV(b); err != nil && !errors.Is(err, ErrWAV) {
			t.Fatalf("untyped: %v", err)
		}
	})
}

// FuzzUnframe: any bytes unframe to the payload of a frame they hold or fail with a
// typed error; a frame with bytes changed never unframes to other bytes.
func FuzzUnframe(f *testing.F) {
	fr, _ := Frame([]byte("offpay pairing code"))
	f.Add(fr, uint16(0), byte(0))
	f.Add(fr, uint16(20), byte(0x55))
	f.Fuzz(func(t *testing.T, b []byte, at uint16, x byte) {
		if _, err := Unframe(b); err != nil && !errors.Is(err, ErrNoSignal) && !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("untyped: %v", err)
		}
		p := b
		if len(p) > 64 {
			p = p[:64]
		}
		frame, err := Frame(p)
		if err != nil {
			t.Fatal(err)
		}
		frame[int(at)%len(frame)] ^= x
		got, err := Unframe(frame)
		if err == nil && !bytes.Equal(got, p) {
			t.Fatalf("one byte changed: %x unframed as %x", p, got)
		}
		if err != nil && x != 0 && int(at)%len(frame) >= headerLen*headerCopies {
			t.Fatalf("one shard byte changed is corrected: %v", err)
		}
	})
}
