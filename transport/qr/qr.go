// Package qr carries offpay messages as QR code text and images: a single-frame text form,
// a multi-frame form for larger messages, and PNG, terminal and image-decoding helpers.
//
// The text forms use only the QR alphanumeric character set, so encoders pick the
// alphanumeric mode and decoders return the text intact (no character-set guessing, which
// corrupts binary payloads). The byte-exact formats are in FORMAT.md.
package qr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/offpay/offpay/internal/base45"
)

// Prefixes of the text forms. Their version digit changes if the framing changes.
const (
	SinglePrefix = "OP1:"  // one QR code holds the whole message
	MultiPrefix  = "OPM1:" // one frame of a multi-frame message
	EnrolPrefix  = "OPE1:" // a one-time enrolment code and its ledger's URL (EncodeEnrol)
)

// MaxTextLen is the longest text any QR code holds (version 40, level L, alphanumeric
// mode). Longer input is refused before it is decoded.
const MaxTextLen = 4296

// MaxBytesV13M is the largest message whose single-frame text fits a version 13 code at
// level M (483 alphanumeric characters). The byte-mode capacity of 13-M is 331 bytes;
// the alphanumeric text costs about 3% of it.
const MaxBytesV13M = 319

// Errors returned by this package. Match them with errors.Is: returned errors may wrap
// them with details.
var (
	ErrNotOffpay    = errors.New("qr: not an offpay code")
	ErrCorrupt      = errors.New("qr: corrupt offpay code")
	ErrTooLarge     = errors.New("qr: too large")
	ErrNoQR         = errors.New("qr: no QR code found")
	ErrImage        = errors.New("qr: unreadable image")
	ErrOtherMessage = errors.New("qr: frame belongs to another message")
)

// Level is a QR error-correction level.
type Level int

// Error-correction levels, recovering about 7, 15, 25 and 30 percent of damaged codewords.
const (
	L Level = iota
	M
	Q
	H
)

func (l Level) String() string {
	if l < L || l > H {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return "LMQH"[l : l+1]
}

// EncodeText returns the single-frame QR text of msg: SinglePrefix + base45(msg).
func EncodeText(msg []byte) string {
	return SinglePrefix + base45.Encode(msg)
}

// surround is the whitespace a decoder ignores around a text (FORMAT.md): the ASCII
// space, tab, carriage return and line feed a scanner, terminal or chat adds. Other
// whitespace (Unicode spaces, vertical tab, form feed) is not trimmed, and whitespace
// inside the text is never removed: the text is then refused.
const surround = " \t\r\n"

// trim removes the whitespace a decoder ignores around a text.
func trim(s string) string { return strings.Trim(s, surround) }

// DecodeText returns the message in a single-frame QR text. Leading and trailing ASCII
// whitespace (space, tab, CR, LF) is ignored; other whitespace around the text (a no-break
// space) and a line break or tab inside it make the text invalid. Messages are never
// empty. A text of another kind (a URL, or a multi-frame part, which needs an Assembler)
// gives ErrNotOffpay; bad base45 gives ErrCorrupt.
func DecodeText(s string) ([]byte, error) {
	s = trim(s)
	if len(s) > MaxTextLen {
		return nil, fmt.Errorf("%w: %d characters", ErrTooLarge, len(s))
	}
	body, ok := strings.CutPrefix(s, SinglePrefix)
	if !ok {
		return nil, ErrNotOffpay
	}
	if body == "" {
		return nil, fmt.Errorf("%w: empty message", ErrCorrupt)
	}
	msg, err := base45.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return msg, nil
}

// IsOffpay reports whether s (surrounding ASCII whitespace ignored, as in DecodeText) has
// the prefix of one of the offpay text forms. It does not check the rest.
func IsOffpay(s string) bool {
	s = trim(s)
	return strings.HasPrefix(s, SinglePrefix) || strings.HasPrefix(s, MultiPrefix) || strings.HasPrefix(s, EnrolPrefix)
}

// EncodeEnrol is the text form of a one-time enrolment code: the account
// it is for, the code and the URL of the ledger that issued it
// ("OPE1:ACCOUNT/CODE@URL"), so that a device enrols from one scan. It
// carries no protocol message (FORMAT.md).
func EncodeEnrol(account, code, ledgerURL string) string {
	return EnrolPrefix + account + "/" + code + "@" + ledgerURL
}

// DecodeEnrol reads EncodeEnrol's form: ErrNotOffpay for another text,
// ErrCorrupt when a part is missing.
func DecodeEnrol(text string) (account, code, ledgerURL string, err error) {
	rest, ok := strings.CutPrefix(trim(text), EnrolPrefix)
	if !ok {
		return "", "", "", ErrNotOffpay
	}
	head, ledgerURL, ok1 := strings.Cut(rest, "@")
	account, code, ok2 := strings.Cut(head, "/")
	if !ok1 || !ok2 || account == "" || code == "" || ledgerURL == "" {
		return "", "", "", fmt.Errorf("%w: an enrolment code form is ACCOUNT/CODE@URL", ErrCorrupt)
	}
	return account, code, ledgerURL, nil
}
