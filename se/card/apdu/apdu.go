// Package apdu is the wire format of the SE as a smart card
// (spec/card/CARD.md): short ISO/IEC 7816-4 command and response APDUs, command
// chaining and GET RESPONSE for long messages, the instruction table and
// the status words, one per SE refusal code.
package apdu

import (
	"errors"
	"fmt"
)

// Class bytes. Chain is ORed into a class byte on every block of a chained
// command but the last (ISO/IEC 7816-4 5.4.1).
const (
	ClaISO         byte = 0x00
	ClaProprietary byte = 0x80
	Chain          byte = 0x10
)

// ISO instructions.
const (
	InsSelect      byte = 0xA4
	InsVerify      byte = 0x20
	InsGetResponse byte = 0xC0
	// InsChangePIN is CHANGE REFERENCE DATA (P1 01: the new PIN only,
	// the old one verified in this session).
	InsChangePIN byte = 0x24
	// InsUnlock is RESET RETRY COUNTER: the unlock code sets a new PIN
	// and ends a lockout.
	InsUnlock byte = 0x2C
)

// Proprietary instructions (class 0x80), one per se.SE operation.
const (
	InsEnrol          byte = 0x30
	InsInstall        byte = 0x32
	InsApplyLoad      byte = 0x34
	InsReserve        byte = 0x36
	InsNewRequest     byte = 0x38
	InsStanding       byte = 0x3A
	InsPay            byte = 0x3C
	InsReceive        byte = 0x3E
	InsConfirmReceipt byte = 0x40
	InsRefund         byte = 0x42
	InsRedeem         byte = 0x44
	InsSyncUpload     byte = 0x46
	InsApplySync      byte = 0x48
	InsSealData       byte = 0x4A
	InsOpenData       byte = 0x4C
	InsStatus         byte = 0x50
	InsCertificate    byte = 0x52
	InsLog            byte = 0x54
	InsPending        byte = 0x56
	InsSales          byte = 0x58
	// InsAttestation is GET ATTESTATION: the card's attestation of its key
	// (protocol.Attestation), public, answered without the PIN; 6A88 if
	// the card has none.
	InsAttestation byte = 0x5A
	// InsNewUnlockCode is NEW UNLOCK CODE: the card makes a new unlock
	// code (the old one stops working) and answers it, to show once.
	InsNewUnlockCode byte = 0x5C
	// InsPayOnline is PAY ONLINE: PAY's data, answered with an
	// OnlinePayment (the card's purse unchanged).
	InsPayOnline byte = 0x5E
)

// AID is the applet's application identifier: a proprietary (category F)
// AID, "offpay" in ASCII and the interface version 1.
var AID = []byte{0xF0, 'o', 'f', 'f', 'p', 'a', 'y', 0x01}

// MaxMessage is the longest command or response data a chain carries
// (an upload of protocol.MaxSyncEntries entries fits).
const MaxMessage = 8 << 20

// MaxBlock is the most data one short command APDU carries; MaxResponse
// the most one response carries before 61xx asks for GET RESPONSE.
const (
	MaxBlock    = 255
	MaxResponse = 256
)

// Command is one command APDU.
type Command struct {
	Cla, Ins, P1, P2 byte
	Data             []byte
	// Le is the response length expected: 0 none (no Le byte), 1..256
	// (256 is encoded 00).
	Le int
}

// ErrLength is a command APDU whose length bytes do not match its length.
var ErrLength = errors.New("apdu: wrong length")

// Marshal encodes c as a short APDU (cases 1 to 4). Data longer than
// MaxBlock or Le above MaxResponse is a programming error.
func (c Command) Marshal() []byte {
	if len(c.Data) > MaxBlock || c.Le < 0 || c.Le > MaxResponse {
		panic(fmt.Sprintf("apdu: short APDU with %d data bytes, Le %d", len(c.Data), c.Le))
	}
	b := []byte{c.Cla, c.Ins, c.P1, c.P2}
	if len(c.Data) > 0 {
		b = append(b, byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.Le > 0 {
		b = append(b, byte(c.Le)) // 256 wraps to 00
	}
	return b
}

// Parse decodes a short command APDU. An extended-length APDU, an Lc of
// 0, or a body whose length does not match Lc is ErrLength.
func Parse(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, ErrLength
	}
	c := Command{Cla: b[0], Ins: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2
		c.Le = leOf(body[0])
	default:
		n := int(body[0])
		if n == 0 {
			return Command{}, ErrLength // extended length or Lc 0: not used
		}
		switch len(body) {
		case 1 + n: // case 3
		case 2 + n: // case 4
			c.Le = leOf(body[1+n])
		default:
			return Command{}, ErrLength
		}
		c.Data = body[1 : 1+n]
	}
	return c, nil
}

func leOf(b byte) int {
	if b == 0 {
		return MaxResponse
	}
	return int(b)
}

// Response is a response APDU: data and the status word.
type Response struct {
	Data []byte
	SW   uint16
}

// Marshal encodes r: data, SW1, SW2.
func (r Response) Marshal() []byte {
	b := make([]byte, 0, len(r.Data)+2)
	b = append(b, r.Data...)
	return append(b, byte(r.SW>>8), byte(r.SW))
}

// ParseResponse splits a response APDU into data and status word.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("apdu: response of %d bytes, no status word", len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}
