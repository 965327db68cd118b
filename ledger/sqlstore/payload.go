package sqlstore

import (
	"bytes"
	"fmt"
	"github.com/klauspost/compress/flate"
	"io"
	"sync"
)

// Notification payloads (JSON) are stored compressed on SQLite, which has
// no compression of its own: they were the largest table after the log
// entries (about 440 bytes a settled payment of 1,650, offpay bench
// --storage). PostgreSQL compresses them itself (lz4, postgres.go).
//
// A compressed payload is packedMagic followed by raw DEFLATE; anything
// else is a payload as written (JSON never starts with a zero byte), so
// rows written before stay readable.

var packedMagic = []byte{0, 'z', 1}

// packMin is the smallest payload worth compressing.
const packMin = 256

var flaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// packPayload returns p compressed, or p when that is not smaller.
func packPayload(p []byte) []byte {
	if len(p) < packMin {
		return p
	}
	var b bytes.Buffer
	b.Grow(len(p) / 2)
	b.Write(packedMagic)
	w := flaters.Get().(*flate.Writer)
	defer flaters.Put(w)
	w.Reset(&b)
	if _, err := w.Write(p); err != nil {
		return p
	}
	if err := w.Close(); err != nil || b.Len() >= len(p) {
		return p
	}
	return b.Bytes()
}

// maxPayload bounds what a stored payload may inflate to.
const maxPayload = 64 << 20

// unpackPayload returns the payload as written.
func unpackPayload(p []byte) ([]byte, error) {
	if !bytes.HasPrefix(p, packedMagic) {
		return p, nil
	}
	r := flate.NewReader(bytes.NewReader(p[len(packedMagic):]))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: stored notification payload: %w", err)
	}
	if len(out) > maxPayload {
		return nil, fmt.Errorf("sqlstore: stored notification payload inflates beyond %d bytes", maxPayload)
	}
	return out, nil
}
