package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/transport/sound"
)

// readMessage reads a message envelope from a PNG or JPEG image of its QR
// code, from its text form, or from a WAV recording of it played as sound
// (transport/sound), in a file or on stdin ("-").
func readMessage(e *env, path string) ([]byte, error) {
	if path == "" {
		return nil, usageErrorf("--in FILE is required (a PNG or JPEG of the code, its text form, or - for stdin)")
	}
	data, err := readInput(e, path)
	if err != nil {
		return nil, err
	}
	if sound.IsWAV(data) { // a recording of the code played as sound
		return decodeSound(path, data)
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

// readInput reads a file the user named, or stdin for "-".
func readInput(e *env, path string) ([]byte, error) {
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
	return data, nil
}

func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF})
}

// checkOutputs refuses, before anything is signed or credited, a command
// with nowhere to write its code (pngFlag names its PNG flag) or with a path
// it cannot write. A command checks its outputs first, so that a missing
// flag never leaves a payment signed and its code unwritten.
func checkOutputs(pngFlag, pngPath, textPath string) error {
	if pngPath == "" && textPath == "" {
		return usageErrorf("--%s FILE.png or --text FILE is required (--text - for stdout)", pngFlag)
	}
	for _, p := range []string{pngPath, textPath} {
		if p == "" || p == "-" {
			continue
		}
		if err := writable(p); err != nil {
			return usageErrorf("cannot write %s: %v", p, err)
		}
	}
	return nil
}

// writable checks that path can be written the way writeFileAtomic writes
// it: a temporary file beside it, renamed over it.
func writable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("it is a folder")
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	f.Close()
	return os.Remove(tmp)
}

// writeMessage writes msg as a QR PNG to pngPath and/or as its text form to
// textPath ("-": stdout). At least one must be given.
func writeMessage(e *env, msg []byte, pngPath, textPath string) error {
	if pngPath == "" && textPath == "" {
		return usageErrorf("--out FILE.png or --text FILE is required (--text - for stdout)")
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
// a reader waiting for path never sees half a code. The file is 0600.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	os.Remove(tmp) // WriteFile keeps the mode of a file that exists
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// inputError is a file the user named that cannot be read.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }
