package apdu

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Status words of the transport itself (ISO/IEC 7816-4 5.6).
const (
	SWOK          uint16 = 0x9000
	SWMoreData    uint16 = 0x6100 // | bytes left (00: 256 or more)
	SWWrongPIN    uint16 = 0x63C0 // | tries left: se.CodeBadPIN
	SWWrongLength uint16 = 0x6700
	SWChainLast   uint16 = 0x6883 // a chain was broken off by another command
	SWNotVerified uint16 = 0x6982 // the PIN was not verified
	SWLocked      uint16 = 0x6983 // se.CodeLocked: no tries left
	SWNoState     uint16 = 0x6985 // no applet selected, nothing to GET RESPONSE
	SWWrongData   uint16 = 0x6A80 // the data field is not the command's CBOR
	SWNoMemory    uint16 = 0x6A84 // a chain longer than MaxMessage
	SWNotFound    uint16 = 0x6A82 // SELECT of another AID
	SWNoData      uint16 = 0x6A88 // GET ATTESTATION on a card without one
	SWWrongP1P2   uint16 = 0x6A86
	SWInsNotSupp  uint16 = 0x6D00
	SWClaNotSupp  uint16 = 0x6E00
	SWInternal    uint16 = 0x6F00 // a failure that is not an SE refusal
	swCodeBase    uint16 = 0x9C00 // | index in codes: the other SE refusals
)

// codes lists the SE refusal codes in the order of their status words:
// codes[i] is 9C00 + i + 1. The order is normative (spec/card/CARD.md section 5): new
// codes go at the end.
var codes = []se.Code{
	se.CodeInsufficientFunds, se.CodeLimit, se.CodeNonceUnknown, se.CodeNonceUsed,
	se.CodeAlreadyAccepted, se.CodeWrongPayee, se.CodeExpired, se.CodeRevoked,
	se.CodeStaleRevList, se.CodeOfflineTooLong, se.CodeNotEnrolled, se.CodeEnrolled,
	se.CodeBadLoad, se.CodeBadSync, se.CodeUnknownPayment, se.CodeAmountMismatch,
	se.CodeCurrency, se.CodeBadRequest, se.CodeBroken, se.CodeProtocol,
	se.CodeClaimExpired, se.CodeReceiveOnly, se.CodeWeakPIN, se.CodeBadData,
	se.CodeLoadConflict, se.CodeLogPruned, se.CodeUnknownSale, se.CodeAlreadyRefunded,
}

// SWOf is the status word of SE refusal code c (tries left only for
// se.CodeBadPIN), or SWInternal for a code the table lacks.
func SWOf(c se.Code, tries int) uint16 {
	switch c {
	case se.CodeBadPIN:
		return SWWrongPIN | uint16(min(max(tries, 0), 15))
	case se.CodeLocked:
		return SWLocked
	}
	for i, k := range codes {
		if k == c {
			return swCodeBase + uint16(i) + 1
		}
	}
	return SWInternal
}

// CodeOf is the SE refusal code of a status word ("" for one that is not).
func CodeOf(sw uint16) se.Code {
	switch {
	case sw&0xFFF0 == SWWrongPIN:
		return se.CodeBadPIN
	case sw == SWLocked:
		return se.CodeLocked
	case sw&0xFF00 == swCodeBase:
		if i := int(sw&0xFF) - 1; i >= 0 && i < len(codes) {
			return codes[i]
		}
	}
	return ""
}

// Refusal is the data of a response whose status word is an SE refusal:
// the limit, the detail for humans and the class of the protocol error
// behind it (each may be empty).
type Refusal struct {
	_      struct{} `cbor:",toarray"`
	Which  string
	Detail string
	Class  string
}

// MaxDetail bounds a refusal's detail so that it fits one response.
const MaxDetail = 160

// RefusalOf encodes err for the card's answer: its status word and data.
// tries is the PIN tries left, for se.CodeBadPIN.
func RefusalOf(err error, tries int) Response {
	var e *se.Error
	if !errors.As(err, &e) {
		return Response{SW: SWInternal, Data: encodeRefusal(Refusal{Detail: err.Error()})}
	}
	r := Refusal{Which: string(e.Which), Detail: e.Detail}
	var pe *protocol.Error
	if errors.As(e.Err, &pe) {
		r.Class = string(pe.Class)
	}
	return Response{SW: SWOf(e.Code, tries), Data: encodeRefusal(r)}
}

func encodeRefusal(r Refusal) []byte {
	if len(r.Detail) > MaxDetail {
		r.Detail = r.Detail[:MaxDetail]
	}
	b, err := Enc.Marshal(r)
	if err != nil {
		panic(err)
	}
	return b
}

// StatusError is a status word that is not an SE refusal.
type StatusError struct {
	SW     uint16
	Detail string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("offpay card: status word %04X", e.SW)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// ErrorOf turns a response that is not 9000 into an error: an *se.Error
// (wrapping the *protocol.Error named by its class) for an SE refusal, a
// *StatusError otherwise.
func ErrorOf(r Response) error {
	var ref Refusal
	if len(r.Data) > 0 && Dec.Unmarshal(r.Data, &ref) != nil {
		ref = Refusal{}
	}
	c := CodeOf(r.SW)
	if c == "" {
		return &StatusError{SW: r.SW, Detail: ref.Detail}
	}
	e := &se.Error{Code: c, Which: se.Limit(ref.Which), Detail: ref.Detail}
	if ref.Class != "" {
		e.Err = &protocol.Error{Class: protocol.Class(ref.Class), Detail: ref.Detail}
	}
	return e
}

// Enc and Dec are the CBOR modes of the data fields: core deterministic
// encoding, and a decoder that refuses duplicate keys, indefinite lengths
// and tags.
var (
	Enc cbor.EncMode
	Dec cbor.DecMode
)

func init() {
	var err error
	eo := cbor.CoreDetEncOptions()
	eo.NilContainers = cbor.NilContainerAsEmpty
	if Enc, err = eo.EncMode(); err != nil {
		panic(err)
	}
	do := cbor.DecOptions{
		DupMapKey:   cbor.DupMapKeyEnforcedAPF,
		IndefLength: cbor.IndefLengthForbidden,
		TagsMd:      cbor.TagsForbidden,
	}
	if Dec, err = do.DecMode(); err != nil {
		panic(err)
	}
}
