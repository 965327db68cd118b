package ledgerclient

import (
	"errors"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// ErrUnreachable is matched (errors.Is) by every failure to get an answer
// from the ledger: connection refused, DNS failure, timeouts, a proxy's 502
// or 504, and the ledger's own 503 "unavailable". The caller can keep its
// request and try later; nothing was refused.
var ErrUnreachable = errors.New("ledger unreachable")

// UnreachableError is a transport failure. It matches ErrUnreachable and
// unwraps to the underlying error (a *url.Error, context.DeadlineExceeded...).
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("ledger unreachable at %s: %v", e.URL, e.Err)
}

// Is makes errors.Is(err, ErrUnreachable) hold.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Unwrap returns the transport error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// APIError is an error answer of the ledger. It carries the server's
// stable code, so offpay.ErrorCode(err) returns Code, and its protocol
// class, so protocol.ClassOf(err) and errors.Is(err, protocol.ErrRevoked)
// work as they do on the ledger's side.
type APIError struct {
	Status  int
	Code    offpay.Code
	Message string
	Class   protocol.Class // empty unless a protocol message was refused
}

func (e *APIError) Error() string {
	if e.Class != "" {
		return fmt.Sprintf("ledger refused (%s, %s): %s", e.Code, e.Class, e.Message)
	}
	return fmt.Sprintf("ledger refused (%s): %s", e.Code, e.Message)
}

// Unwrap exposes the answer as an *offpay.Error and, with a class, as a
// *protocol.Error.
func (e *APIError) Unwrap() []error {
	errs := []error{&offpay.Error{Code: e.Code, Message: e.Message}}
	if e.Class != "" {
		errs = append(errs, &protocol.Error{Class: e.Class, Detail: e.Message})
	}
	return errs
}

// Is makes a 503 "unavailable" answer match ErrUnreachable: the ledger is
// up but cannot serve now, which a caller handles as unreachable.
func (e *APIError) Is(target error) bool {
	return target == ErrUnreachable && e.Code == offpay.EUNAVAILABLE
}

// retryable reports whether a failed attempt of an idempotent call may be
// repeated: the ledger was not reached, was overloaded or unavailable.
func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == 429 || ae.Status == 502 || ae.Status == 503 || ae.Status == 504
	}
	var ue *UnreachableError
	return errors.As(err, &ue)
}
