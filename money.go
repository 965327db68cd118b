package offpay

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Sentinel errors of money handling. Functions return them wrapped in an
// *Error with a more precise message; test for them with errors.Is. All are
// EINVALID: they describe bad input, not a fault of the system.
var (
	ErrOverflow         = &Error{Code: EINVALID, Message: "amount overflow"}
	ErrNegative         = &Error{Code: EINVALID, Message: "negative amount"}
	ErrCurrencyMismatch = &Error{Code: EINVALID, Message: "currency mismatch"}
	ErrUnknownCurrency  = &Error{Code: EINVALID, Message: "unknown currency"}
	ErrBadAmount        = &Error{Code: EINVALID, Message: "malformed amount"}
	ErrTooManyDecimals  = &Error{Code: EINVALID, Message: "more decimals than the currency has"}
)

// maxDigits is the most digits an amount may have: MaxInt64 has 19.
const maxDigits = 19

// Amount is a non-negative quantity of money in minor units (cents for EUR,
// yen for JPY) of a known currency. Build it with NewAmount or ParseAmount;
// the zero value is not a valid Amount.
type Amount struct {
	Minor    int64
	Currency string
}

// NewAmount returns an Amount after checking that minor is not negative
// (ErrNegative) and that the currency is known (ErrUnknownCurrency).
func NewAmount(minor int64, currency string) (Amount, error) {
	if minor < 0 {
		return Amount{}, wrapf(ErrNegative, "%d %s", minor, clip(currency))
	}
	if _, err := LookupCurrency(currency); err != nil {
		return Amount{}, err
	}
	return Amount{Minor: minor, Currency: currency}, nil
}

// ParseAmount parses an amount written as digits, an optional "." and
// fraction digits, one ASCII space and a currency code: "12.50 EUR",
// "12 EUR", "12.5 EUR" (1250 cents), "1000 JPY", "0.005 KWD".
//
// The grammar is strict, because amounts are typed by people and signed by
// machines and every accepted form must mean exactly one thing:
//   - only ASCII digits: no sign, no exponent, no thousands separator, no
//     space inside the number, no leading or trailing whitespace;
//   - no leading zeros ("007 EUR"), except a lone "0" ("0.05 USD");
//   - a "." must have digits on both sides: "12." and ".5" are rejected;
//   - exactly one space before the code; codes are upper case ("eur" is
//     an unknown currency);
//   - at most the currency's exponent fraction digits, trailing zeros
//     included ("12.5 JPY", "1.0 JPY", "1.234 EUR": ErrTooManyDecimals);
//   - at most 19 digits and at most MaxInt64 minor units (ErrOverflow).
//
// Errors wrap ErrBadAmount (syntax), ErrUnknownCurrency,
// ErrTooManyDecimals or ErrOverflow, checked in that order.
func ParseAmount(s string) (Amount, error) {
	num, code, ok := strings.Cut(s, " ")
	if !ok {
		return Amount{}, wrapf(ErrBadAmount, "amount %q: want a number, a space and a currency code", clip(s))
	}
	return parseAmount(s, num, code)
}

// ParseAmountIn parses an amount like ParseAmount but also accepts a bare
// number ("12.50"), which is taken in defaultCurrency. When s names a
// currency, that currency wins even if it differs from defaultCurrency: the
// caller who needs them equal compares Amount.Currency. defaultCurrency is
// checked in every case, since an unknown default is a configuration error
// that should not hide behind inputs that happen to name their currency.
func ParseAmountIn(s, defaultCurrency string) (Amount, error) {
	if _, err := LookupCurrency(defaultCurrency); err != nil {
		return Amount{}, err
	}
	num, code, ok := strings.Cut(s, " ")
	if !ok {
		code = defaultCurrency
	}
	return parseAmount(s, num, code)
}

// parseAmount parses num in currency code; s is the whole input, for errors.
func parseAmount(s, num, code string) (Amount, error) {
	if code == "" || strings.ContainsAny(code, " \t\n\v\f\r") {
		return Amount{}, wrapf(ErrBadAmount, "amount %q: want one space between number and currency code", clip(s))
	}
	intPart, frac, hasDot := strings.Cut(num, ".")
	if !digitsOnly(intPart) || (hasDot && !digitsOnly(frac)) {
		return Amount{}, wrapf(ErrBadAmount, "amount %q", clip(s))
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return Amount{}, wrapf(ErrBadAmount, "amount %q: leading zero", clip(s))
	}
	cur, err := LookupCurrency(code)
	if err != nil {
		return Amount{}, wrapf(ErrUnknownCurrency, "amount %q", clip(s))
	}
	if len(frac) > int(cur.Exponent) {
		return Amount{}, wrapf(ErrTooManyDecimals, "amount %q: %s has %d decimals", clip(s), cur.Code, cur.Exponent)
	}
	if len(intPart)+len(frac) > maxDigits {
		return Amount{}, wrapf(ErrOverflow, "amount %q", clip(s))
	}
	// Append the missing fraction zeros and read the minor units as one
	// integer; ParseUint rejects values above MaxUint64 and the check below
	// those above MaxInt64.
	digits := intPart + frac + strings.Repeat("0", int(cur.Exponent)-len(frac))
	u, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || u > math.MaxInt64 {
		return Amount{}, wrapf(ErrOverflow, "amount %q", clip(s))
	}
	return Amount{Minor: int64(u), Currency: cur.Code}, nil
}

// digitsOnly reports whether s is one or more ASCII digits.
func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats a with exactly its currency's exponent of fraction digits:
// "12.50 EUR", "1000 JPY", "0.005 KWD". ParseAmount reads it back. An Amount
// whose currency is unknown prints its minor units and code ("5 XYZ"), and
// the zero Amount prints "0": neither parses back.
func (a Amount) String() string {
	cur, err := LookupCurrency(a.Currency)
	if err != nil {
		if a.Currency == "" {
			return FormatMinor(a.Minor, 0)
		}
		return FormatMinor(a.Minor, 0) + " " + a.Currency
	}
	return FormatMinor(a.Minor, cur.Exponent) + " " + cur.Code
}

// Add returns a+b. Both must be valid amounts of the same currency
// (ErrCurrencyMismatch, ErrUnknownCurrency, ErrNegative); a sum above
// MaxInt64 is ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	if err := checkPair(a, b, "+"); err != nil {
		return Amount{}, err
	}
	sum, err := AddMinor(a.Minor, b.Minor)
	if err != nil {
		return Amount{}, wrapf(ErrOverflow, "%s + %s", a, b)
	}
	return Amount{Minor: sum, Currency: a.Currency}, nil
}

// Sub returns a-b. Both must be valid amounts of the same currency, and b
// must not exceed a: a negative result is ErrNegative.
func (a Amount) Sub(b Amount) (Amount, error) {
	if err := checkPair(a, b, "-"); err != nil {
		return Amount{}, err
	}
	// Both operands are non-negative, so the difference cannot overflow.
	if b.Minor > a.Minor {
		return Amount{}, wrapf(ErrNegative, "%s - %s", a, b)
	}
	return Amount{Minor: a.Minor - b.Minor, Currency: a.Currency}, nil
}

// checkPair checks that a and b can meet in arithmetic: same currency, a
// known one, neither negative.
func checkPair(a, b Amount, op string) error {
	if a.Currency != b.Currency {
		return wrapf(ErrCurrencyMismatch, "%s %s %s", a, op, b)
	}
	if _, err := LookupCurrency(a.Currency); err != nil {
		return err
	}
	if a.Minor < 0 || b.Minor < 0 {
		return wrapf(ErrNegative, "%s %s %s", a, op, b)
	}
	return nil
}

// AddMinor returns a+b, or ErrOverflow if the sum does not fit an int64.
// Unlike Amount.Add it accepts negative operands and results, for balances
// and positions that may go below zero.
func AddMinor(a, b int64) (int64, error) {
	s := a + b
	// Overflow happened iff a and b have the same sign and s has the other.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// SubMinor returns a-b, or ErrOverflow if the difference does not fit an
// int64. Negative operands and results are allowed, as in AddMinor.
func SubMinor(a, b int64) (int64, error) {
	d := a - b
	// Overflow happened iff a and b have different signs and d has b's.
	if (a >= 0) != (b >= 0) && (d >= 0) != (a >= 0) {
		return 0, ErrOverflow
	}
	return d, nil
}

// SumMinor returns the sum of xs, or ErrOverflow if it does not fit an
// int64. It sums in 128 bits, so the result depends only on the values and
// not on their order: partial sums may leave the int64 range as long as the
// total comes back into it, as when a batch of settlements is replayed in
// any order.
func SumMinor(xs ...int64) (int64, error) {
	var hi, lo uint64
	for _, x := range xs {
		var carry uint64
		lo, carry = bits.Add64(lo, uint64(x), 0)
		hi += uint64(x>>63) + carry // x>>63 sign-extends x into the high word
	}
	if hi != uint64(int64(lo)>>63) {
		return 0, ErrOverflow
	}
	return int64(lo), nil
}

// FormatMinor formats minor units with exponent fraction digits: 1250 and 2
// give "12.50", 5 and 3 give "0.005", 1000 and 0 give "1000". Negative
// values get a leading "-".
func FormatMinor(minor int64, exponent uint8) string {
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = -u // two's complement: correct for MinInt64 too
	}
	digits := strconv.FormatUint(u, 10)
	e := int(exponent)
	var b strings.Builder
	b.Grow(len(digits) + e + 3)
	if neg {
		b.WriteByte('-')
	}
	if e == 0 {
		b.WriteString(digits)
		return b.String()
	}
	if len(digits) <= e {
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", e-len(digits)))
		b.WriteString(digits)
		return b.String()
	}
	b.WriteString(digits[:len(digits)-e])
	b.WriteByte('.')
	b.WriteString(digits[len(digits)-e:])
	return b.String()
}
