package iso20022

import (
	"fmt"

	"github.com/offpay/offpay"
)

// Sentinel errors. Functions return them wrapped with the detail; test
// with errors.Is. All are offpay.EINVALID: they describe input that the
// messages cannot carry, not a fault of the system.
var (
	// ErrAmountTooLarge: an amount (or a total) of more than 18 digits,
	// the most an ISO 20022 amount has (totalDigits 18).
	ErrAmountTooLarge = &offpay.Error{Code: offpay.EINVALID, Message: "amount does not fit an ISO 20022 amount"}
	// ErrCurrency: a currency unknown to offpay's table, whose code is not
	// three capital letters, or whose exponent is above 5 (fractionDigits 5).
	ErrCurrency = &offpay.Error{Code: offpay.EINVALID, Message: "currency not expressible in ISO 20022"}
	// ErrUnbalanced: net positions that do not sum to zero.
	ErrUnbalanced = &offpay.Error{Code: offpay.EINVALID, Message: "net positions do not sum to zero"}
	// ErrObligations: obligations whose netting is not the positions given.
	ErrObligations = &offpay.Error{Code: offpay.EINVALID, Message: "obligations do not net to the positions"}
	// ErrField: an identifier or text that does not fit its element
	// (empty, too long, or a code of the wrong form).
	ErrField = &offpay.Error{Code: offpay.EINVALID, Message: "field does not fit its ISO 20022 element"}
	// ErrOverflow: a sum or a balance beyond int64.
	ErrOverflow = &offpay.Error{Code: offpay.EINVALID, Message: "amount overflow"}
)

// UnbalancedError is the error of net positions that do not sum to zero:
// Sum is what they sum to. It wraps ErrUnbalanced.
type UnbalancedError struct {
	Cycle string
	Sum   int64
}

func (e *UnbalancedError) Error() string {
	return fmt.Sprintf("cycle %q: net positions sum to %d, not 0: %s", clip(e.Cycle), e.Sum, ErrUnbalanced.Message)
}

// Unwrap lets errors.Is find ErrUnbalanced.
func (e *UnbalancedError) Unwrap() error { return ErrUnbalanced }

// wrapf returns an *offpay.Error with the sentinel's code, the detail
// before the sentinel's message, wrapping the sentinel.
func wrapf(sentinel *offpay.Error, format string, args ...any) error {
	return &offpay.Error{Code: sentinel.Code, Message: fmt.Sprintf(format, args...) + ": " + sentinel.Message, Err: sentinel}
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "..."
}
