package protocol

import (
	"errors"
	"fmt"
)

// Class names one kind of failure. Test vectors expect exactly one class, and
// SPEC.md lists them all; the strings are stable.
type Class string

// The error classes. A verifier in another language reports the same class
// for the same input.
const (
	ClassMalformed      Class = "malformed"       // not CBOR, truncated, wrong shape or type
	ClassNonCanonical   Class = "non_canonical"   // valid CBOR, but not the one canonical encoding
	ClassTrailingBytes  Class = "trailing_bytes"  // bytes after the message
	ClassOversize       Class = "oversize"        // message or field longer than its limit
	ClassUnknownVersion Class = "unknown_version" // version field is not 1
	ClassUnknownType    Class = "unknown_type"    // envelope type byte not defined
	ClassUnknownAlg     Class = "unknown_algorithm"
	ClassBadKey         Class = "bad_key"       // public key of wrong length or not on the curve
	ClassBadSignature   Class = "bad_signature" // signature does not verify (wrong key, context or bytes)
	ClassBadField       Class = "bad_field"     // a field value out of its domain
	ClassAmount         Class = "bad_amount"    // amount zero where forbidden, or above 2^63-1
	ClassCurrency       Class = "currency_mismatch"
	ClassExpired        Class = "expired"         // certificate or request past its end
	ClassNotYetValid    Class = "not_yet_valid"   // certificate before its start
	ClassUntrusted      Class = "untrusted_chain" // chain does not reach a trusted root
	ClassRevoked        Class = "revoked"
	ClassWrongPayee     Class = "wrong_payee"
	ClassLimit          Class = "limit_exceeded"
	ClassStaleRevList   Class = "stale_revocation_list"
	ClassBadChain       Class = "bad_log_chain" // log counter or previous hash does not follow
)

// Error is a protocol failure: a class and a detail for humans.
type Error struct {
	Class  Class
	Detail string
}

func (e *Error) Error() string { return "offpay protocol: " + string(e.Class) + ": " + e.Detail }

// Is makes errors.Is(err, &Error{Class: c}) match on the class alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Class == e.Class && (t.Detail == "" || t.Detail == e.Detail)
}

func errf(c Class, format string, args ...any) error {
	return &Error{Class: c, Detail: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is.
var (
	ErrMalformed      = &Error{Class: ClassMalformed}
	ErrNonCanonical   = &Error{Class: ClassNonCanonical}
	ErrTrailingBytes  = &Error{Class: ClassTrailingBytes}
	ErrOversize       = &Error{Class: ClassOversize}
	ErrUnknownVersion = &Error{Class: ClassUnknownVersion}
	ErrUnknownType    = &Error{Class: ClassUnknownType}
	ErrUnknownAlg     = &Error{Class: ClassUnknownAlg}
	ErrBadKey         = &Error{Class: ClassBadKey}
	ErrBadSignature   = &Error{Class: ClassBadSignature}
	ErrBadField       = &Error{Class: ClassBadField}
	ErrAmount         = &Error{Class: ClassAmount}
	ErrCurrency       = &Error{Class: ClassCurrency}
	ErrExpired        = &Error{Class: ClassExpired}
	ErrNotYetValid    = &Error{Class: ClassNotYetValid}
	ErrUntrusted      = &Error{Class: ClassUntrusted}
	ErrRevoked        = &Error{Class: ClassRevoked}
	ErrWrongPayee     = &Error{Class: ClassWrongPayee}
	ErrLimit          = &Error{Class: ClassLimit}
	ErrStaleRevList   = &Error{Class: ClassStaleRevList}
	ErrBadChain       = &Error{Class: ClassBadChain}
)

// ClassOf returns the class of a protocol error, or "" if err is not one.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ""
}
