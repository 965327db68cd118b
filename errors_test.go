package offpay

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, ""},
		{"plain", io.EOF, EINTERNAL},
		{"direct", Errorf(ENOTFOUND, "no account %d", 7), ENOTFOUND},
		{"wrapped by fmt", fmt.Errorf("store: %w", Errorf(ECONFLICT, "dup")), ECONFLICT},
		{"outermost wins", Errorf(ELIMIT, "over: %w", Errorf(EINVALID, "inner")), ELIMIT},
		{"sentinel", ErrOverflow, EINVALID},
		{"empty code", &Error{Message: "x"}, EINTERNAL},
	}
	for _, tt := range tests {
		if got := ErrorCode(tt.err); got != tt.want {
			t.Errorf("%s: ErrorCode = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain errors never leak", errors.New("pq: relation accounts does not exist"), "internal error"},
		{"internal code never leaks", &Error{Code: EINTERNAL, Message: "disk /var/x full"}, "internal error"},
		{"message", Errorf(EFORBIDDEN, "device %s revoked", "ab12"), "device ab12 revoked"},
		{"wrapped by fmt", fmt.Errorf("ctx: %w", Errorf(EUNAUTHORIZED, "bad token")), "bad token"},
		{"no message", &Error{Code: EUNAVAILABLE}, "unavailable"},
	}
	for _, tt := range tests {
		if got := ErrorMessage(tt.err); got != tt.want {
			t.Errorf("%s: ErrorMessage = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestErrorfWraps(t *testing.T) {
	err := Errorf(EINVALID, "load: %w", ErrOverflow)
	if !errors.Is(err, ErrOverflow) {
		t.Error("errors.Is does not see the %w operand")
	}
	if got, want := err.Error(), "load: amount overflow"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	two := Errorf(ECONFLICT, "%w and %w", ErrNegative, io.EOF)
	if !errors.Is(two, ErrNegative) || !errors.Is(two, io.EOF) {
		t.Error("errors.Is does not see both %w operands")
	}
	if plain := Errorf(EINVALID, "x %d", 1); plain.Err != nil || plain.Unwrap() != nil {
		t.Errorf("Errorf without %%w wraps %v", plain.Err)
	}
	if errors.Is(ErrOverflow, ErrNegative) {
		t.Error("distinct sentinels compare equal")
	}
}

func TestErrorString(t *testing.T) {
	if got := (&Error{Code: ENOTFOUND, Err: io.EOF}).Error(); got != "EOF" {
		t.Errorf("Error() with only Err = %q", got)
	}
	if got := (&Error{Code: ENOTFOUND}).Error(); got != "offpay: not_found" {
		t.Errorf("Error() with only Code = %q", got)
	}
}
