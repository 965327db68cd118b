package qr

import (
	"bytes"
	"errors"
	"image"
	"image/draw"
	"image/png"
	"testing"
)

// TestDecodeFrame reads a code drawn into a larger camera-like frame, and
// says ErrNoQR for a frame without one.
func TestDecodeFrame(t *testing.T) {
	text := EncodeText(bytes.Repeat([]byte{7, 200}, 150))
	b, err := PNG(text, M, 3)
	if err != nil {
		t.Fatal(err)
	}
	code, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(frame, frame.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(frame, code.Bounds().Add(image.Pt(100, 40)), code, image.Point{}, draw.Src)
	got, err := DecodeFrame(frame)
	if err != nil || got != text {
		t.Fatalf("DecodeFrame = %q, %v", got, err)
	}
	blank := image.NewRGBA(image.Rect(0, 0, 64, 48))
	if _, err := DecodeFrame(blank); !errors.Is(err, ErrNoQR) {
		t.Fatalf("blank frame: %v, want ErrNoQR", err)
	}
}
