package qr

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
)

// testMessage returns n deterministic pseudo-random bytes.
func testMessage(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustPNG(t *testing.T, text string, level Level, ppm int) image.Image {
	t.Helper()
	data, err := PNG(text, level, ppm)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func toGray(img image.Image) *image.Gray {
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// roundTrip decodes an image and checks that it yields msg.
func roundTrip(t *testing.T, data []byte, msg []byte) {
	t.Helper()
	text, err := DecodeImage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("DecodeImage: %v", err)
	}
	got, err := DecodeText(text)
	if err != nil {
		t.Fatalf("DecodeText: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("decoded %x, want %x", got, msg)
	}
}

func TestImageScales(t *testing.T) {
	msg := testMessage(331, 1)
	text := EncodeText(msg)
	for _, ppm := range []int{2, 4, 8} {
		data, err := PNG(text, M, ppm)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// Version 14 is 73 modules wide, plus a 4-module quiet zone each side.
		if want := (73 + 8) * ppm; cfg.Width != want {
			t.Errorf("%d px/module: width %d, want %d", ppm, cfg.Width, want)
		}
		roundTrip(t, data, msg)
	}
}

func TestImageJPEG(t *testing.T) {
	msg := testMessage(300, 2)
	img := mustPNG(t, EncodeText(msg), M, 4)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, buf.Bytes(), msg)
}

// Gaussian noise (sigma 5% of full scale) plus 5% of pixels inverted. At 2 px/module the
// inverted specks defeat gozxing's finder even after filtering; 3 or more is needed.
func TestImageNoise(t *testing.T) {
	for _, ppm := range []int{4, 8} {
		msg := testMessage(300, 3)
		g := toGray(mustPNG(t, EncodeText(msg), M, ppm))
		r := rand.New(rand.NewPCG(3, 3))
		flipped := 0
		for i := range g.Pix {
			n := int(g.Pix[i]) + int(r.NormFloat64()*0.05*255)
			g.Pix[i] = uint8(max(0, min(255, n)))
			if r.Float64() < 0.05 {
				g.Pix[i] = 255 - g.Pix[i]
				flipped++
			}
		}
		if flipped == 0 {
			t.Fatal("no pixel flipped")
		}
		roundTrip(t, encodePNG(t, g), msg)
	}
}

func TestImageBlur(t *testing.T) {
	msg := testMessage(300, 4)
	src := toGray(mustPNG(t, EncodeText(msg), M, 4))
	b := src.Bounds()
	dst := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			sum, n := 0, 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if p := (image.Point{x + dx, y + dy}); p.In(b) {
						sum += int(src.GrayAt(p.X, p.Y).Y)
						n++
					}
				}
			}
			dst.SetGray(x, y, color.Gray{uint8(sum / n)})
		}
	}
	if bytes.Equal(dst.Pix, src.Pix) {
		t.Fatal("blur changed nothing")
	}
	roundTrip(t, encodePNG(t, dst), msg)
}

func TestImageRotated(t *testing.T) {
	msg := testMessage(300, 5)
	src := toGray(mustPNG(t, EncodeText(msg), M, 4))
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dst := image.NewGray(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			dst.SetGray(h-1-y, x, src.GrayAt(x, y)) // 90 degrees clockwise
		}
	}
	roundTrip(t, encodePNG(t, dst), msg)
}

func TestImageErrors(t *testing.T) {
	foreign := toGray(mustPNG(t, "https://example.com", M, 4))
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"foreign", encodePNG(t, foreign), ErrNotOffpay},
		{"blank", encodePNG(t, blank), ErrNoQR},
		{"not an image", []byte("GIF89a nonsense"), ErrImage},
		{"empty", nil, ErrImage},
	}
	for _, c := range cases {
		_, err := DecodeImage(bytes.NewReader(c.data))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

func TestImageTruncatedText(t *testing.T) {
	text := EncodeText(testMessage(300, 6))
	cut := text[:len(text)-1] // 450 base45 chars minus one: a bad length
	data, err := PNG(cut, M, 4)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeImage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("DecodeImage: %v", err)
	}
	if got != cut {
		t.Fatalf("DecodeImage returned a different text")
	}
	if _, err := DecodeText(got); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DecodeText(truncated) error %v, want ErrCorrupt", err)
	}
}

func TestVersions(t *testing.T) {
	// Byte mode would need versions 13, 13 and 17 for these lengths at level M; smaller
	// numbers show that the library picked the alphanumeric mode.
	cases := []struct{ chars, want int }{
		{300, 10},
		{331, 11},
		{483, 13}, // alphanumeric capacity of 13-M
		{484, 14},
		{497, 14}, // the text of a 331-byte message
	}
	for _, c := range cases {
		text := SinglePrefix + strings.Repeat("A", c.chars-len(SinglePrefix))
		v, err := Version(text, M)
		if err != nil || v != c.want {
			t.Errorf("Version(%d chars, M) = %d, %v; want %d", c.chars, v, err, c.want)
		}
	}
	// 331 bytes is the byte-mode capacity of 13-M; base45 costs 3%, so the largest
	// message that fits 13-M as text is MaxBytesV13M, and 331 bytes fit 13-L.
	for _, c := range []struct {
		n     int
		level Level
		want  int
	}{{MaxBytesV13M, M, 13}, {MaxBytesV13M + 1, M, 14}, {331, M, 14}, {331, L, 12}} {
		if v, err := Version(EncodeText(testMessage(c.n, 7)), c.level); err != nil || v != c.want {
			t.Errorf("%d-byte message at %v: version %d, %v; want %d", c.n, c.level, v, err, c.want)
		}
	}
	if _, err := Version(strings.Repeat("A", MaxTextLen+1), L); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize text: error %v, want ErrTooLarge", err)
	}
}

func TestTerminal(t *testing.T) {
	var buf bytes.Buffer
	if err := Terminal(&buf, EncodeText([]byte("hello")), M); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "▀") || !strings.Contains(out, "▄") {
		t.Fatalf("no half blocks in terminal output:\n%s", out)
	}
	if err := Terminal(&buf, strings.Repeat("A", MaxTextLen+1), M); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize text: error %v, want ErrTooLarge", err)
	}
}
