package offpay

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers and for the HTTP layer, which maps
// each code to one status in a single table. Codes are part of the API:
// never rename one.
type Code string

// Error codes.
const (
	EINVALID      Code = "invalid"
	ECONFLICT     Code = "conflict"
	ENOTFOUND     Code = "not_found"
	EUNAUTHORIZED Code = "unauthorized"
	EFORBIDDEN    Code = "forbidden"
	ELIMIT        Code = "limit"
	EINTERNAL     Code = "internal"
	EUNAVAILABLE  Code = "unavailable"
	// EBEHIND: the ledger holds less of a device's log than the device
	// knows it acknowledged (the ledger lost data: a restored backup, a
	// power loss); the device uploads again from the ledger's counter.
	EBEHIND Code = "behind"
)

// Error is the project's one error type. Message is meant for the client and
// must not carry internal detail (SQL, file paths, key material); wrap such
// errors in Err under EINTERNAL instead.
type Error struct {
	Code    Code
	Message string
	Err     error
}

// Error returns Message, or the wrapped error's text when Message is empty.
// It does not append Err to Message: Errorf already formats a %w operand
// into Message, and sentinels wrapped by this package name themselves there.
func (e *Error) Error() string {
	switch {
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	default:
		return "offpay: " + string(e.Code)
	}
}

// Unwrap returns the wrapped error so that errors.Is and errors.As see it.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a message formatted as by
// fmt.Errorf. A %w operand is formatted into Message and also kept in Err,
// so errors.Is sees through it; with several %w operands Err wraps them all.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	e := &Error{Code: code, Message: err.Error()}
	switch w := err.(type) {
	case interface{ Unwrap() error }:
		e.Err = w.Unwrap()
	case interface{ Unwrap() []error }:
		e.Err = err
	}
	return e
}

// ErrorCode returns the code of the outermost *Error in err's chain, "" for
// a nil error, and EINTERNAL for an error that carries no *Error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns a message that is safe to show a client: the Message
// of the outermost *Error in err's chain. It returns "internal error" for an
// error that carries no *Error, for EINTERNAL errors (their detail belongs in
// the log, not on the wire) and "" for a nil error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) || e.Code == EINTERNAL || e.Code == "" {
		return "internal error"
	}
	if e.Message == "" {
		return string(e.Code)
	}
	return e.Message
}
