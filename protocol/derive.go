package protocol

import "bytes"

// Encodings derived from bytes already at hand instead of encoding a
// message again: what a verifier of many messages (the ledger, settling
// uploads) saves. Each has a test comparing it with Marshal and
// SigningInput; a wrong one could only make a valid message fail its
// signature or chain check.

// EntrySigningInput returns e.SigningInput(), encoded directly: the
// canonical CBOR of a LogEntry is a 9-element array of unsigned integers
// and byte strings, with the signature replaced by the empty byte string.
func EntrySigningInput(e *LogEntry) []byte {
	if e.Body == nil {
		return e.SigningInput()
	}
	out := make([]byte, 0, len(CtxLogEntry)+2+9+2+len(e.Device)+9+2+len(e.Prev)+9+9+9+len(e.Body)+9+1)
	out = append(out, CtxLogEntry...)
	out = append(out, 0, 0x89)
	out = appendHead(out, 0, uint64(e.Version))
	out = appendHead(out, 2, uint64(len(e.Device)))
	out = append(out, e.Device[:]...)
	out = appendHead(out, 0, e.Counter)
	out = appendHead(out, 2, uint64(len(e.Prev)))
	out = append(out, e.Prev[:]...)
	out = appendHead(out, 0, uint64(e.Kind))
	out = appendHead(out, 0, e.Time)
	out = appendHead(out, 2, uint64(len(e.Body)))
	out = append(out, e.Body...)
	out = appendHead(out, 0, uint64(e.SigAlg))
	return append(out, 0x40)
}

// appendHead appends the shortest CBOR head of major type major and
// argument n.
func appendHead(out []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(out, m|byte(n))
	case n < 1<<8:
		return append(out, m|24, byte(n))
	case n < 1<<16:
		return append(out, m|25, byte(n>>8), byte(n))
	case n < 1<<32:
		return append(out, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(out, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// EntryEncoding returns e's canonical encoding from its signing input
// (context, zero byte, encoding with an empty signature), saving a second
// encoding per entry: the signature is the entry's last array element, so
// the two encodings differ only in that final byte string.
func EntryEncoding(input []byte, e *LogEntry) []byte {
	body := input[len(CtxLogEntry)+1:]
	if len(e.Sig) != SigSize || len(body) == 0 || body[len(body)-1] != 0x40 {
		return e.Marshal()
	}
	out := make([]byte, 0, len(body)+1+SigSize)
	out = append(out, body[:len(body)-1]...)
	out = append(out, 0x58, SigSize)
	return append(out, e.Sig...)
}

// SigningInputFromEncoding returns the signing input of a message from its canonical
// encoding enc, whose last array element is its signature sig: the
// context, a zero byte, then enc with that element replaced by the empty
// byte string. It saves encoding the message again. It returns nil if enc
// does not end with sig as a 64-byte string (callers then encode).
func SigningInputFromEncoding(ctx string, enc, sig []byte) []byte {
	n := len(enc) - 2 - SigSize
	if len(sig) != SigSize || n < 1 || enc[n] != 0x58 || enc[n+1] != SigSize || !bytes.Equal(enc[n+2:], sig) {
		return nil
	}
	out := make([]byte, 0, len(ctx)+1+n+1)
	out = append(out, ctx...)
	out = append(out, 0)
	out = append(out, enc[:n]...)
	return append(out, 0x40)
}

// UploadSigningInput returns up's signing input assembled from its entries'
// encodings (entries[i] is the canonical encoding of up.Entries[i]) around the encoding of its other fields, instead of
// encoding every entry a second time; the bytes are the same, since an
// array's canonical encoding is its header then its elements' encodings
// in order. It returns nil if the shape is not the one expected.
func UploadSigningInput(up *SyncUpload, entries [][]byte) []byte {
	if up.SigAlg >= 24 || len(entries) != len(up.Entries) {
		return nil
	}
	shell := SyncUpload{Version: up.Version, Device: up.Device, Time: up.Time, Entries: []LogEntry{}, SigAlg: up.SigAlg}
	in := shell.SigningInput()
	// in ends with the empty entries array, the algorithm (< 24: one
	// byte) and the empty signature.
	k := len(in) - 3
	if k < 0 || in[k] != 0x80 || in[k+1] != byte(up.SigAlg) || in[k+2] != 0x40 {
		return nil
	}
	size := len(in) + 3
	for _, e := range entries {
		size += len(e)
	}
	out := make([]byte, 0, size)
	out = append(out, in[:k]...)
	out = appendHead(out, 4, uint64(len(entries)))
	for _, e := range entries {
		out = append(out, e...)
	}
	return append(out, in[k+1:]...)
}
