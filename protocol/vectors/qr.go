package vectors

import (
	"strings"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/transport/qr"
)

// QR text form classes (transport/qr/FORMAT.md, single frame).
const (
	QRNotOffpay = "qr_not_offpay"
	QRCorrupt   = "qr_corrupt"
	QRTooLarge  = "qr_too_large"
)

// qrVectors: the single-frame QR text form `OP1:` + base45(envelope).
// A valid vector's output is the envelope the text carries.
func (w *world) qrVectors() []Vector {
	env := protocol.Seal(&protocol.PaymentBundle{Payment: *w.payment, Cert: *w.payer})
	text := qr.EncodeText(env)
	ok := func(name, desc, text string) Vector {
		return Vector{Name: name, Description: desc, MessageType: "qr_text", Input: Input{Text: text}, Expect: Valid,
			Output: &Output{EnvelopeHex: hexOf(env)}}
	}
	bad := func(name, desc, text, class string) Vector {
		return Vector{Name: name, Description: desc, MessageType: "qr_text", Input: Input{Text: text}, Expect: class}
	}
	body := strings.TrimPrefix(text, qr.SinglePrefix)
	return []Vector{
		ok("qr-bundle-valid", "The Ed25519 payment bundle envelope (307 bytes) as QR text: 465 characters, fits version 13-M in alphanumeric mode.", text),
		ok("qr-whitespace-valid", "The same text with the spaces and line end a scanner may add around it.", "  "+text+"\r\n"),
		bad("qr-lower-case-prefix", "The prefix is case-sensitive.", "op1:"+body, QRNotOffpay),
		bad("qr-multi-frame-prefix", "A multi-frame part is not a single-frame text.", "OPM1:"+body, QRNotOffpay),
		bad("qr-url", "Some other QR code.", "https://example.com/", QRNotOffpay),
		bad("qr-empty-message", "The prefix alone.", "OP1:", QRCorrupt),
		bad("qr-lower-case-base45", "The bundle's text with its first base45 character replaced by 'a', outside the alphabet.", "OP1:a"+body[1:], QRCorrupt),
		bad("qr-bad-length", "base45 text of 4 characters: a length of 1 mod 3 is never valid.", "OP1:0000", QRCorrupt),
		bad("qr-group-overflow", "A 3-character group worth 91124 (above 65535).", "OP1::::", QRCorrupt),
		bad("qr-pair-overflow", "A final 2-character group worth 2024 (above 255).", "OP1:::", QRCorrupt),
		bad("qr-too-long", "4297 characters: longer than any QR code holds.", "OP1:"+strings.Repeat("0", 4293), QRTooLarge),
		bad("qr-nbsp-before", "A no-break space (U+00A0) before the text: only ASCII space, tab, CR and LF are trimmed.", "\u00a0"+text, QRNotOffpay),
		bad("qr-nbsp-after", "A no-break space (U+00A0) after the text: not trimmed, outside the alphabet.", text+"\u00a0", QRCorrupt),
		bad("qr-vertical-tab-after", "A vertical tab (U+000B) after the text: not trimmed.", text+"\v", QRCorrupt),
		bad("qr-line-break-inside", "The text wrapped after 64 characters: line breaks inside a text are not removed.", text[:64]+"\r\n"+text[64:], QRCorrupt),
		bad("qr-tab-inside", "A tab inside the text.", text[:64]+"\t"+text[64:], QRCorrupt),
		bad("qr-too-long-utf8", "4296 characters but 4297 bytes in UTF-8 (a final U+00A0): the limit counts bytes.", "OP1:"+strings.Repeat("0", 4291)+"\u00a0", QRTooLarge),
	}
}
