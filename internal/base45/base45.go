// Package base45 implements the base45 encoding of RFC 9285, whose alphabet is exactly
// the QR code alphanumeric character set.
package base45

import (
	"errors"
	"fmt"
	"strings"
)

// Alphabet is the RFC 9285 base45 alphabet, in value order.
const Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// ErrInvalid is matched (with errors.Is) by every decoding error.
var ErrInvalid = errors.New("base45: invalid input")

// CorruptError reports malformed base45 text.
type CorruptError struct {
	Offset int    // offset of the offending character or group in the input
	Reason string // "invalid character", "bad length", or "value overflow"
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("base45: %s at offset %d", e.Reason, e.Offset)
}

// Is makes every CorruptError match ErrInvalid.
func (e *CorruptError) Is(target error) bool { return target == ErrInvalid }

var decodeTable = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(Alphabet); i++ {
		t[Alphabet[i]] = int8(i)
	}
	return t
}()

// EncodedLen returns the length of the encoding of n bytes.
func EncodedLen(n int) int { return n/2*3 + n%2*2 }

// DecodedLen returns the length of the decoding of n characters, or -1 when n is not a
// valid encoded length.
func DecodedLen(n int) int {
	if n%3 == 1 {
		return -1
	}
	return n/3*2 + n%3/2
}

// Encode returns the base45 encoding of src.
func Encode(src []byte) string {
	var b strings.Builder
	b.Grow(EncodedLen(len(src)))
	for i := 0; i+1 < len(src); i += 2 {
		v := int(src[i])<<8 | int(src[i+1])
		b.WriteByte(Alphabet[v%45])
		b.WriteByte(Alphabet[v/45%45])
		b.WriteByte(Alphabet[v/2025])
	}
	if len(src)%2 == 1 {
		v := int(src[len(src)-1])
		b.WriteByte(Alphabet[v%45])
		b.WriteByte(Alphabet[v/45])
	}
	return b.String()
}

// Decode returns the bytes encoded by s. It accepts only the canonical encoding: every
// string it accepts is what Encode produces for the result.
func Decode(s string) ([]byte, error) {
	n := DecodedLen(len(s))
	if n < 0 {
		return nil, &CorruptError{Offset: len(s) - 1, Reason: "bad length"}
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(s); i += 3 {
		end := min(i+3, len(s))
		v, mul := 0, 1
		for j := i; j < end; j++ {
			d := decodeTable[s[j]]
			if d < 0 {
				return nil, &CorruptError{Offset: j, Reason: "invalid character"}
			}
			v += int(d) * mul
			mul *= 45
		}
		if end-i == 3 {
			if v > 0xffff {
				return nil, &CorruptError{Offset: i, Reason: "value overflow"}
			}
			out = append(out, byte(v>>8), byte(v))
		} else {
			if v > 0xff {
				return nil, &CorruptError{Offset: i, Reason: "value overflow"}
			}
			out = append(out, byte(v))
		}
	}
	return out, nil
}
