package qr

import (
	"errors"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
)

// DecodeFrame finds an offpay code in one camera frame: the cheap set-up
// of DecodeImage only (hybrid binarizer, try harder), because a camera
// gives another frame a moment later and most frames hold no code. It
// gives ErrNoQR when no code is found and ErrNotOffpay for a foreign code.
func DecodeFrame(img image.Image) (string, error) {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > MaxImagePixels {
		return "", fmt.Errorf("%w: %dx%d pixels", ErrImage, b.Dx(), b.Dy())
	}
	src := gozxing.NewLuminanceSourceFromImage(img)
	hybrid := func() (*gozxing.BinaryBitmap, error) { return gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src)) }
	tryHarder := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	results, err := single(hybrid, tryHarder)()
	if err != nil {
		// The single reader misses about 2 in 100 clean codes: gozxing's
		// finder takes a pattern inside the data for a finder pattern (see
		// decodeImage). The multi reader weighs every candidate and reads
		// them; it costs about twice the single one on a frame with no code.
		// Without it a camera held still on such a code never reads it.
		results, err = multiple(hybrid, tryHarder)()
		if err == nil && len(results) == 0 {
			err = errors.New("no code")
		}
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoQR, err)
	}
	if text, ok := offpayText(results[0]); ok {
		return text, nil
	}
	return "", ErrNotOffpay
}
