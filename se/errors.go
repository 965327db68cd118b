package se

import (
	"errors"
	"fmt"

	"github.com/offpay/offpay/protocol"
)

// Code names one kind of SE refusal. Codes shared with protocol.Class use
// the same strings, so a refusal reads the same whichever layer found it.
type Code string

// The SE refusal codes.
const (
	CodeInsufficientFunds Code = "insufficient_funds"
	CodeLimit             Code = Code(protocol.ClassLimit)
	CodeNonceUnknown      Code = "nonce_unknown"
	CodeNonceUsed         Code = "nonce_used"
	CodeAlreadyAccepted   Code = "already_accepted"
	CodeWrongPayee        Code = Code(protocol.ClassWrongPayee)
	CodeExpired           Code = Code(protocol.ClassExpired)
	CodeRevoked           Code = Code(protocol.ClassRevoked)
	CodeStaleRevList      Code = Code(protocol.ClassStaleRevList)
	CodeBadPIN            Code = "bad_pin"
	CodeLocked            Code = "locked"
	CodeOfflineTooLong    Code = "offline_too_long"
	CodeNotEnrolled       Code = "not_enrolled"
	CodeEnrolled          Code = "already_enrolled"
	CodeBadLoad           Code = "bad_load"
	CodeBadSync           Code = "bad_sync_result"
	CodeUnknownPayment    Code = "unknown_payment"
	CodeAmountMismatch    Code = "amount_mismatch"
	CodeCurrency          Code = Code(protocol.ClassCurrency)
	CodeBadRequest        Code = "bad_request"
	CodeBroken            Code = "broken" // a write failed: state on disk is unknown until reopened
	CodeProtocol          Code = "protocol"
	CodeClaimExpired      Code = "claim_expired" // payment too old to claim
	CodeReceiveOnly       Code = "receive_only"  // the device may only receive
	CodeWeakPIN           Code = "weak_pin"      // the PIN is shorter than the certificate's MinPIN
	CodeBadData           Code = "bad_data"      // sealed data that was changed or sealed by another SE
	// CodeLoadConflict: a load with a sequence number the SE applied with
	// other contents: the ledger lost data and reissued the number.
	CodeLoadConflict Code = "load_conflict"
	// CodeLogPruned: entries below the SE's archive were asked for.
	CodeLogPruned Code = "log_pruned"
	// CodeUnknownSale: a refund names a sale this SE did not make (or
	// receive), or no longer remembers (the refund window passed).
	CodeUnknownSale Code = "unknown_sale"
	// CodeAlreadyRefunded: the sale was refunded before (once per sale).
	CodeAlreadyRefunded Code = "already_refunded"
)

// Limit names which offline limit a payment or load would break.
type Limit string

// The limits of protocol.Limits the SE enforces.
const (
	LimitHolding      Limit = "holding"
	LimitPerPayment   Limit = "per_payment"
	LimitOfflineCount Limit = "offline_count"
	LimitOfflineValue Limit = "offline_value"
	// LimitUnacked: the log has run protocol.MaxUnackedEntries past the
	// last counter the ledger acknowledged; the SE pays again after a sync.
	LimitUnacked Limit = "unacked_entries"
	// LimitHops: the payment would pay on value received offline more
	// than the certificate's MaxHops times; it can be paid after a sync.
	LimitHops Limit = "hops"
	// LimitRefund: a refund above the sale it refunds.
	LimitRefund Limit = "refund"
)

// Error is an SE refusal. Err, when set, is the protocol error behind it.
type Error struct {
	Code   Code
	Which  Limit // for CodeLimit
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := "offpay se: " + string(e.Code)
	if e.Which != "" {
		s += " (" + string(e.Which) + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap exposes the protocol error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is matches on Code, and on Which when the target names one.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Which == "" || t.Which == e.Which)
}

// Sentinels for errors.Is.
var (
	ErrInsufficientFunds = &Error{Code: CodeInsufficientFunds}
	ErrLimit             = &Error{Code: CodeLimit}
	ErrNonceUnknown      = &Error{Code: CodeNonceUnknown}
	ErrNonceUsed         = &Error{Code: CodeNonceUsed}
	ErrAlreadyAccepted   = &Error{Code: CodeAlreadyAccepted}
	ErrWrongPayee        = &Error{Code: CodeWrongPayee}
	ErrExpired           = &Error{Code: CodeExpired}
	ErrRevoked           = &Error{Code: CodeRevoked}
	ErrStaleRevList      = &Error{Code: CodeStaleRevList}
	ErrBadPIN            = &Error{Code: CodeBadPIN}
	ErrLocked            = &Error{Code: CodeLocked}
	ErrOfflineTooLong    = &Error{Code: CodeOfflineTooLong}
	ErrNotEnrolled       = &Error{Code: CodeNotEnrolled}
	ErrEnrolled          = &Error{Code: CodeEnrolled}
	ErrBadLoad           = &Error{Code: CodeBadLoad}
	ErrBadSync           = &Error{Code: CodeBadSync}
	ErrUnknownPayment    = &Error{Code: CodeUnknownPayment}
	ErrAmountMismatch    = &Error{Code: CodeAmountMismatch}
	ErrCurrency          = &Error{Code: CodeCurrency}
	ErrBadRequest        = &Error{Code: CodeBadRequest}
	ErrBroken            = &Error{Code: CodeBroken}
	ErrClaimExpired      = &Error{Code: CodeClaimExpired}
	ErrLoadConflict      = &Error{Code: CodeLoadConflict}
	ErrLogPruned         = &Error{Code: CodeLogPruned}
	ErrReceiveOnly       = &Error{Code: CodeReceiveOnly}
	ErrWeakPIN           = &Error{Code: CodeWeakPIN}
	ErrBadData           = &Error{Code: CodeBadData}
	ErrUnknownSale       = &Error{Code: CodeUnknownSale}
	ErrAlreadyRefunded   = &Error{Code: CodeAlreadyRefunded}
)

// LimitErr returns the sentinel of one limit, for errors.Is.
func LimitErr(w Limit) *Error { return &Error{Code: CodeLimit, Which: w} }

// Errorf builds an SE error.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// Limitf builds a limit error.
func Limitf(w Limit, format string, args ...any) *Error {
	return &Error{Code: CodeLimit, Which: w, Detail: fmt.Sprintf(format, args...)}
}

// FromProtocol wraps a protocol error so that both errors.Is(err,
// se.ErrRevoked) and errors.Is(err, protocol.ErrRevoked) hold. Other errors
// pass through.
func FromProtocol(err error) error {
	if err == nil {
		return nil
	}
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		return err
	}
	c := CodeProtocol
	switch Code(pe.Class) {
	case CodeLimit, CodeWrongPayee, CodeExpired, CodeRevoked, CodeStaleRevList, CodeCurrency:
		c = Code(pe.Class)
	}
	return &Error{Code: c, Detail: pe.Detail, Err: err}
}

// CodeOf returns the code of an SE error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
