package ledgerclient

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// ErrUnreachable is matched (errors.Is) by every failure to get an answer
// from the ledger: connection refused, DNS failure, timeouts, a proxy's 429,
// 502 or 504, the ledger's own 503 "unavailable" and its 429 "rate_limited".
// The caller can keep its request and try later; nothing was refused.
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

// ErrInsecure is matched (errors.Is) by the refusal to send the
// administrator token, or to enrol, over plain HTTP to a host that is not
// a loopback address (InsecureError).
var ErrInsecure = errors.New("refused: plain HTTP to a remote ledger")

// InsecureError is that refusal. Nothing was sent.
type InsecureError struct{ URL string }

func (e *InsecureError) Error() string {
	return fmt.Sprintf("refusing to send the administrator token or an enrolment over plain HTTP to %s: "+
		"anyone on the path could read the token or hand the device another root; use https:// (or allow it explicitly)", e.URL)
}

// Is makes errors.Is(err, ErrInsecure) hold.
func (e *InsecureError) Is(target error) bool { return target == ErrInsecure }

// APIError is an error answer of the ledger. It carries the server's
// stable code, so offpay.ErrorCode(err) returns Code, and its protocol
// class, so protocol.ClassOf(err) and errors.Is(err, protocol.ErrRevoked)
// work as they do on the ledger's side.
type APIError struct {
	Status     int
	Code       offpay.Code
	Message    string
	Class      protocol.Class // empty unless a protocol message was refused
	RetryAfter time.Duration  // the answer's Retry-After, if any (429, 503)
	// Acked, with Code "behind": the last counter of the device's log the
	// ledger holds.
	Acked *uint64
}

// LedgerHolds reports, for a "behind" answer, the last counter of the
// device's log the ledger holds (wallet.Behind).
func (e *APIError) LedgerHolds() (uint64, bool) {
	if e.Code != offpay.EBEHIND || e.Acked == nil {
		return 0, false
	}
	return *e.Acked, true
}

// CodeRateLimited is the code of the ledger's 429 answer (server.CodeRateLimited).
const CodeRateLimited offpay.Code = "rate_limited"

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

// Is makes a 503 "unavailable" answer and a 429 "rate limited" one match
// ErrUnreachable: the ledger is up but cannot serve this caller now and did
// nothing, which a caller handles as unreachable: try again later.
func (e *APIError) Is(target error) bool {
	return target == ErrUnreachable && (e.Code == offpay.EUNAVAILABLE || e.RateLimited())
}

// RateLimited reports whether the ledger (or a proxy before it) answered
// 429: too many requests from this device or address.
func (e *APIError) RateLimited() bool {
	return e.Status == http.StatusTooManyRequests || e.Code == CodeRateLimited
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
