package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // DecodeImage reads JPEG
	_ "image/png"  // DecodeImage reads PNG
	"io"
	"slices"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	zxmulti "github.com/makiuchi-d/gozxing/multi/qrcode"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/mdp/qrterminal/v3"
	qrcode "github.com/skip2/go-qrcode"
)

// MaxImagePixels bounds the images DecodeImage reads (width times height), so that a
// small compressed file cannot make it allocate gigabytes.
const MaxImagePixels = 40 << 20

func (l Level) skip2() (qrcode.RecoveryLevel, error) {
	switch l {
	case L:
		return qrcode.Low, nil
	case M:
		return qrcode.Medium, nil
	case Q:
		return qrcode.High, nil
	case H:
		return qrcode.Highest, nil
	}
	return 0, fmt.Errorf("qr: invalid level %v", l)
}

func newCode(text string, level Level) (*qrcode.QRCode, error) {
	rl, err := level.skip2()
	if err != nil {
		return nil, err
	}
	if len(text) > MaxTextLen {
		return nil, fmt.Errorf("%w: %d characters", ErrTooLarge, len(text))
	}
	code, err := qrcode.New(text, rl)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return code, nil
}

// Version returns the QR version (1 to 40) that text needs at the given level. For the
// alphanumeric offpay texts, version 13 at level M holds 483 characters (a message of
// MaxBytesV13M bytes); a 331-byte message (497 characters) needs version 14.
func Version(text string, level Level) (int, error) {
	code, err := newCode(text, level)
	if err != nil {
		return 0, err
	}
	return code.VersionNumber, nil
}

// PNG renders text as a PNG QR code with a four-module quiet zone, pixelsPerModule pixels
// per module (at least 1).
func PNG(text string, level Level, pixelsPerModule int) ([]byte, error) {
	if pixelsPerModule < 1 {
		return nil, fmt.Errorf("qr: pixelsPerModule %d < 1", pixelsPerModule)
	}
	code, err := newCode(text, level)
	if err != nil {
		return nil, err
	}
	return code.PNG(-pixelsPerModule)
}

// Terminal writes text as a QR code drawn with Unicode half blocks (two modules per
// character cell vertically) to w, dark modules on a light background.
func Terminal(w io.Writer, text string, level Level) error {
	if _, err := Version(text, level); err != nil {
		return err
	}
	ew := &errWriter{w: w}
	cfg := qrterminal.Config{
		Writer:         ew,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      qrterminal.QUIET_ZONE,
	}
	switch level {
	case L:
		cfg.Level = qrterminal.L
	case M:
		cfg.Level = qrterminal.M
	case Q:
		cfg.Level = qrterminal.M + 1 // rsc.io/qr's Q, which qrterminal does not re-export
	case H:
		cfg.Level = qrterminal.H
	}
	qrterminal.GenerateWithConfig(text, cfg)
	return ew.err
}

// errWriter keeps the first write error, which qrterminal discards.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// DecodeImage finds a QR code in a PNG or JPEG image and returns its text, which is an
// offpay text form (pass it to DecodeText or an Assembler). It gives ErrImage for an
// unreadable image, ErrNoQR when no code is found and ErrNotOffpay for a foreign code.
func DecodeImage(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrImage, err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxImagePixels {
		return "", fmt.Errorf("%w: %dx%d pixels", ErrImage, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrImage, err)
	}
	return decodeImage(img)
}

// decodeImage tries several detector set-ups, cheapest first, because gozxing's finder
// sometimes takes a pattern inside the data for a finder pattern and then gives up on an
// image that other set-ups read (seen here on clean version 10 codes at 4 px/module).
func decodeImage(img image.Image) (string, error) {
	tryHarder := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	// PURE_BARCODE is set only in the last attempt: gozxing tests for the key's presence,
	// not its value, and camera images are not pure barcodes.
	pure := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	src := gozxing.NewLuminanceSourceFromImage(img)
	hybrid := func() (*gozxing.BinaryBitmap, error) { return gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src)) }
	global := func() (*gozxing.BinaryBitmap, error) {
		return gozxing.NewBinaryBitmap(gozxing.NewGlobalHistgramBinarizer(src))
	}
	var med gozxing.LuminanceSource
	filtered := func() (*gozxing.BinaryBitmap, error) {
		if med == nil {
			med = gozxing.NewLuminanceSourceFromImage(median3(img))
		}
		return gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(med))
	}
	attempts := []func() ([]*gozxing.Result, error){
		single(hybrid, tryHarder),
		multiple(hybrid, tryHarder),
		single(global, tryHarder),
		single(hybrid, pure),
		// Salt-and-pepper noise breaks the finder's run lengths; a median filter removes
		// isolated specks and keeps modules of 3 pixels or more.
		single(filtered, tryHarder),
		multiple(filtered, tryHarder),
	}
	var foreign bool
	var lastErr error
	for _, attempt := range attempts {
		results, err := attempt()
		if err != nil {
			lastErr = err
			continue
		}
		for _, res := range results {
			if text, ok := offpayText(res); ok {
				return text, nil
			}
			foreign = true
		}
	}
	if foreign {
		return "", ErrNotOffpay
	}
	return "", fmt.Errorf("%w: %w", ErrNoQR, lastErr)
}

type bitmapFunc func() (*gozxing.BinaryBitmap, error)

func single(bmp bitmapFunc, hints map[gozxing.DecodeHintType]any) func() ([]*gozxing.Result, error) {
	return func() ([]*gozxing.Result, error) {
		b, err := bmp()
		if err != nil {
			return nil, err
		}
		res, err := zxqr.NewQRCodeReader().Decode(b, hints)
		if err != nil {
			return nil, err
		}
		return []*gozxing.Result{res}, nil
	}
}

func multiple(bmp bitmapFunc, hints map[gozxing.DecodeHintType]any) func() ([]*gozxing.Result, error) {
	return func() ([]*gozxing.Result, error) {
		b, err := bmp()
		if err != nil {
			return nil, err
		}
		return zxmulti.NewQRCodeMultiReader().DecodeMultiple(b, hints)
	}
}

// offpayText returns the result's text when it is an offpay text form. Our texts are
// alphanumeric, so GetText is exact for them; an encoder that chose byte mode leaves the
// exact bytes in BYTE_SEGMENTS, which is tried next.
func offpayText(res *gozxing.Result) (string, bool) {
	if text := trim(res.GetText()); IsOffpay(text) {
		return text, true
	}
	if segs, ok := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte); ok {
		if raw := trim(string(bytes.Join(segs, nil))); utf8.ValidString(raw) && IsOffpay(raw) {
			return raw, true
		}
	}
	return "", false
}

// median3 returns the 3x3 median of img's luminance.
func median3(img image.Image) *image.Gray {
	b := img.Bounds()
	src := image.NewGray(b)
	draw.Draw(src, b, img, b.Min, draw.Src)
	dst := image.NewGray(b)
	var win [9]uint8
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			n := 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					px, py := min(max(x+dx, b.Min.X), b.Max.X-1), min(max(y+dy, b.Min.Y), b.Max.Y-1)
					win[n] = src.Pix[src.PixOffset(px, py)]
					n++
				}
			}
			slices.Sort(win[:])
			dst.Pix[dst.PixOffset(x, y)] = win[4]
		}
	}
	return dst
}
