package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/offpay/offpay/transport/qr"
)

// readMessage reads a message envelope from a PNG or JPEG image of its QR
// code, or from its text form, in a file or on stdin ("-").
func readMessage(e *env, path string) ([]byte, error) {
	if path == "" {
		return nil, usageErrorf("--in FILE is required (a PNG or JPEG of the code, its text form, or - for stdin)")
	}
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(e.stdin, 64<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, &inputError{err}
	}
	text := string(data)
	if isImage(data) {
		if text, err = qr.DecodeImage(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	msg, err := qr.DecodeText(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return msg, nil
}

func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF})
}

// writeMessage writes msg as a QR PNG to pngPath and/or as its text form to
// textPath ("-": stdout). At least one must be given.
func writeMessage(e *env, msg []byte, pngPath, textPath string) error {
	if pngPath == "" && textPath == "" {
		return usageErrorf("--out FILE.png or --text FILE is required")
	}
	text := qr.EncodeText(msg)
	if pngPath != "" {
		img, err := qr.PNG(text, qr.M, 6)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(pngPath, img); err != nil {
			return err
		}
	}
	if textPath == "-" {
		_, err := fmt.Fprintln(e.stdout, text)
		return err
	}
	if textPath != "" {
		return writeFileAtomic(textPath, []byte(text+"\n"))
	}
	return nil
}

// writeFileAtomic writes through a temporary file and a rename, so that
// a reader waiting for path never sees half a code.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// inputError is a file the user named that cannot be read.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }
