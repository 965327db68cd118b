package offpay

import (
	"fmt"
	"sync"
)

// Currency is a currency code and its exponent: the number of decimal digits
// between the minor unit and the major unit (2 for EUR cents, 0 for JPY).
type Currency struct {
	Code     string
	Exponent uint8
}

// MaxCustomExponent is the largest exponent RegisterCurrency accepts. Eight
// decimals (a satoshi-like unit) still leave 11 integer digits in an int64.
const MaxCustomExponent = 8

// isoCurrencies is a subset of ISO 4217: the codes payments are most likely
// to use, with the standard's exponents. It is never written after init, so
// reads need no lock. An ISO code missing here may be added with
// RegisterCurrency.
var isoCurrencies = map[string]uint8{
	// Zero-decimal currencies.
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
	"KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0,
	"XOF": 0, "XPF": 0,
	// Three-decimal currencies.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// Four-decimal units of account.
	"CLF": 4, "UYW": 4,
	// Two-decimal currencies.
	"AED": 2, "ARS": 2, "AUD": 2, "BDT": 2, "BGN": 2, "BRL": 2, "BWP": 2,
	"CAD": 2, "CHF": 2, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "DZD": 2,
	"EGP": 2, "ETB": 2, "EUR": 2, "GBP": 2, "GHS": 2, "HKD": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "JMD": 2, "KES": 2, "KZT": 2, "LKR": 2,
	"MAD": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NGN": 2, "NOK": 2, "NPR": 2,
	"NZD": 2, "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2, "QAR": 2, "RON": 2,
	"RSD": 2, "RUB": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TRY": 2,
	"TWD": 2, "TZS": 2, "UAH": 2, "USD": 2, "UYU": 2, "XCD": 2, "ZAR": 2,
	"ZMW": 2,
}

var custom struct {
	sync.RWMutex
	m map[string]uint8
}

// LookupCurrency returns the currency with the given code: first from the
// built-in ISO 4217 table, then from the registered custom codes. Codes are
// case-sensitive; "eur" is unknown. The error wraps ErrUnknownCurrency.
func LookupCurrency(code string) (Currency, error) {
	if exp, ok := isoCurrencies[code]; ok {
		return Currency{Code: code, Exponent: exp}, nil
	}
	custom.RLock()
	exp, ok := custom.m[code]
	custom.RUnlock()
	if ok {
		return Currency{Code: code, Exponent: exp}, nil
	}
	return Currency{}, wrapf(ErrUnknownCurrency, "currency %q", clip(code))
}

// RegisterCurrency adds a custom currency, such as a community currency or a
// stablecoin unit. The code must be 3 to 8 characters of [A-Z0-9] and the
// exponent at most MaxCustomExponent. Registering a code from the built-in
// ISO table, or a code already registered with another exponent, is an
// ECONFLICT error; registering the same currency again is a no-op, so that
// every component may register what it needs at start-up.
func RegisterCurrency(c Currency) error {
	if !validCode(c.Code) {
		return Errorf(EINVALID, "currency code %q: want 3 to 8 characters of A-Z and 0-9", clip(c.Code))
	}
	if c.Exponent > MaxCustomExponent {
		return Errorf(EINVALID, "currency %s: exponent %d above %d", c.Code, c.Exponent, MaxCustomExponent)
	}
	if _, ok := isoCurrencies[c.Code]; ok {
		return Errorf(ECONFLICT, "currency %s is an ISO 4217 code and cannot be registered", c.Code)
	}
	custom.Lock()
	defer custom.Unlock()
	if exp, ok := custom.m[c.Code]; ok {
		if exp != c.Exponent {
			return Errorf(ECONFLICT, "currency %s already registered with exponent %d", c.Code, exp)
		}
		return nil
	}
	if custom.m == nil {
		custom.m = make(map[string]uint8)
	}
	custom.m[c.Code] = c.Exponent
	return nil
}

// validCode reports whether s is 3 to 8 characters of [A-Z0-9].
func validCode(s string) bool {
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// clip shortens s for use in an error message, so that a hostile input of
// megabytes does not become a log line of megabytes.
func clip(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// wrapf returns an *Error with the sentinel's code whose message is the
// formatted detail followed by the sentinel's message, wrapping the sentinel.
func wrapf(sentinel *Error, format string, args ...any) *Error {
	return &Error{
		Code:    sentinel.Code,
		Message: fmt.Sprintf(format, args...) + ": " + sentinel.Message,
		Err:     sentinel,
	}
}
