package protocol

import (
	"bytes"
	"errors"
	"reflect"

	"github.com/fxamacker/cbor/v2"
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	eo := cbor.CoreDetEncOptions()
	// Absent byte strings and arrays are empty (0x40, 0x80), never null.
	eo.NilContainers = cbor.NilContainerAsEmpty
	if encMode, err = eo.EncMode(); err != nil {
		panic(err)
	}
	do := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  8,
		MaxArrayElements: maxArray,
		MaxMapPairs:      16,
	}
	if decMode, err = do.DecMode(); err != nil {
		panic(err)
	}
}

// encode returns the canonical encoding of v. It cannot fail for the types
// of this package; a failure is a programming error.
func encode(v any) []byte {
	b, err := encMode.Marshal(v)
	if err != nil {
		panic("protocol: encoding failed: " + err.Error())
	}
	return b
}

// decodeStrict decodes data into v and accepts it only if it is the one
// canonical encoding of the value: decode, re-encode, compare. This single
// rule rejects non-minimal integers and lengths, indefinite lengths, maps,
// tags and any other second spelling of the same message.
func decodeStrict(data []byte, v any, max int) error {
	if len(data) > max {
		return errf(ClassOversize, "%d bytes, limit %d", len(data), max)
	}
	if len(data) == 0 {
		return errf(ClassMalformed, "empty message")
	}
	if err := decMode.Unmarshal(data, v); err != nil {
		var extra *cbor.ExtraneousDataError
		if errors.As(err, &extra) {
			return errf(ClassTrailingBytes, "%v", err)
		}
		var maxErr *cbor.MaxArrayElementsError
		if errors.As(err, &maxErr) {
			return errf(ClassOversize, "%v", err)
		}
		return errf(ClassMalformed, "%v", err)
	}
	again := encode(v)
	if !bytes.Equal(again, data) {
		return mismatch(data, again)
	}
	return nil
}

// mismatch classifies an input that decoded but did not re-encode to
// itself. If both encodings hold the same CBOR data-model value, the input
// is a second spelling of a valid message (non-minimal integer or length
// head): non_canonical. Otherwise the decoder filled a field from an item
// of the wrong type or size (null, an array of small integers where a byte
// string belongs, a byte string of the wrong length in a fixed-size field):
// malformed, as SPEC.md requires of any item that does not match its field.
func mismatch(data, again []byte) error {
	var a, b any
	if decMode.Unmarshal(data, &a) == nil && decMode.Unmarshal(again, &b) == nil && reflect.DeepEqual(a, b) {
		return errf(ClassNonCanonical, "re-encoding differs")
	}
	return errf(ClassMalformed, "a field holds an item of the wrong type or size")
}
