package qr

import (
	"bytes"
	"image"
	"image/png"
	mrand "math/rand/v2"
	"testing"
)

// cameraFrame puts text's code, at k pixels per module, in the middle of
// a white 640x480 frame: what a camera held still in front of it sees.
func cameraFrame(t *testing.T, text string, k int) *image.Gray {
	t.Helper()
	p, err := PNG(text, M, 1)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil {
		t.Fatal(err)
	}
	w := img.Bounds().Dx()
	f := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range f.Pix {
		f.Pix[i] = 255
	}
	ox, oy := (640-w*k)/2, (480-w*k)/2
	for y := 0; y < w*k; y++ {
		for x := 0; x < w*k; x++ {
			f.Set(ox+x, oy+y, img.At(x/k, y/k))
		}
	}
	return f
}

// A clean code that gozxing's single reader does not find (its finder
// takes a pattern in the data for a finder pattern): the browser's
// scanner, which sees the same frame again and again while the phones are
// held still, must read it.
func TestDecodeFrameFinderDecoy(t *testing.T) {
	const text = "OP1:OP1:70TP+J64QJ6I-CEOCW9ZL Y2T9QMU8YMIB43FNGSDQYT1WKB5T2YG3XVMH%6KOOULVTWQ9C8%V5CVALTAD/Q3EQY81GD49SAE9P9ZR:X5A4G94U:JR960R9L6H2L8P-BESKHB:P/DI+X3EQUA%3OJI%1RF*GOAKF$O5H96C60VKLI7BX1L-TAH7/ GU3P%VD*Z7*ZQRVUGMP4N9%OC4KT1TH:W6AU3TYDJHBN7UOPIWINV MX1O%8D*7M.DDJ4F-QV* 2 SMIHKE82UKIH0N 1VBMDI7R5UPLSC4R7TA6B+L"
	got, err := DecodeFrame(cameraFrame(t, text, 6))
	if err != nil || got != text {
		t.Fatalf("DecodeFrame = %.20q, %v; want the code's text", got, err)
	}
}

// Every one of 300 clean codes of a payment's size is read from one frame
// (about 2 in 100 were not, before the multi reader's second look).
func TestDecodeFrameReadsCleanCodes(t *testing.T) {
	r := mrand.New(mrand.NewPCG(7, 11))
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := 0; i < n; i++ {
		b := make([]byte, 120+r.IntN(100))
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		text := EncodeText(b)
		p, _ := PNG(text, M, 1)
		cfg, _ := png.DecodeConfig(bytes.NewReader(p))
		if got, err := DecodeFrame(cameraFrame(t, text, 440/cfg.Width)); err != nil || got != text {
			t.Errorf("code %d (%d characters) not read: %v", i, len(text), err)
		}
	}
}
