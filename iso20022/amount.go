package iso20022

import (
	"strconv"
	"strings"

	"github.com/offpay/offpay"
)

// The limits of an ISO 20022 amount (ActiveCurrencyAndAmount and
// ActiveOrHistoricCurrencyAndAmount: xs:decimal, totalDigits 18,
// fractionDigits 5, minInclusive 0).
const (
	MaxDigits   = 18
	MaxExponent = 5
	// MaxMinor is the largest number of minor units an ISO amount holds:
	// 18 nines, whatever the exponent.
	MaxMinor int64 = 999_999_999_999_999_999
)

// Currency returns the offpay currency of code after checking that ISO
// 20022 can name it: a code of three capital letters (ActiveCurrencyCode)
// and an exponent of at most MaxExponent. Errors wrap ErrCurrency.
func Currency(code string) (offpay.Currency, error) {
	c, err := offpay.LookupCurrency(code)
	if err != nil {
		return offpay.Currency{}, wrapf(ErrCurrency, "%v", err)
	}
	if len(code) != 3 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return offpay.Currency{}, wrapf(ErrCurrency, "code %q is not three capital letters", clip(code))
	}
	if c.Exponent > MaxExponent {
		return offpay.Currency{}, wrapf(ErrCurrency, "%s has %d decimals, above %d", code, c.Exponent, MaxExponent)
	}
	return c, nil
}

// Decimal returns minor units of currency code as the ISO decimal amount:
// 1250 EUR is "12.50", 5 KWD is "0.005", 1000 JPY is "1000". It works on
// the digits, never through a float, and always writes the currency's
// number of decimals. A negative amount (ISO amounts are not signed: the
// sign is CdtDbtInd) or one of more than 18 digits wraps ErrAmountTooLarge
// or offpay.ErrNegative; a currency ISO cannot carry wraps ErrCurrency.
func Decimal(minor int64, code string) (string, error) {
	c, err := Currency(code)
	if err != nil {
		return "", err
	}
	return decimal(minor, c)
}

func decimal(minor int64, c offpay.Currency) (string, error) {
	if minor < 0 {
		return "", wrapf(offpay.ErrNegative, "%d %s", minor, c.Code)
	}
	if minor > MaxMinor {
		return "", wrapf(ErrAmountTooLarge, "%d %s has more than %d digits", minor, c.Code, MaxDigits)
	}
	s := strconv.FormatInt(minor, 10)
	e := int(c.Exponent)
	if e == 0 {
		return s, nil
	}
	if len(s) <= e {
		s = strings.Repeat("0", e-len(s)+1) + s
	}
	return s[:len(s)-e] + "." + s[len(s)-e:], nil
}

// ParseDecimal is the inverse of Decimal: the minor units of an ISO amount
// in currency code. It accepts what the schemas accept for that currency
// (digits, an optional "." and at most the currency's decimals, no sign)
// and refuses the rest; readers of the messages (tests, a bank's side) use
// it to check the amounts exactly.
func ParseDecimal(s, code string) (int64, error) {
	if _, err := Currency(code); err != nil {
		return 0, err
	}
	a, err := offpay.ParseAmount(trimZeros(s) + " " + code)
	if err != nil {
		return 0, err
	}
	if a.Minor > MaxMinor {
		return 0, wrapf(ErrAmountTooLarge, "%q", clip(s))
	}
	return a.Minor, nil
}

// trimZeros removes the leading zeros of the integer part (kept as one "0")
// and the trailing zeros of the fraction, which xs:decimal allows and
// offpay.ParseAmount does not.
func trimZeros(s string) string {
	i, f, dot := strings.Cut(s, ".")
	if dot {
		f = strings.TrimRight(f, "0")
	}
	i = strings.TrimLeft(i, "0")
	if i == "" && (s != "" && s[0] == '0') {
		i = "0"
	}
	if f == "" {
		return i
	}
	return i + "." + f
}
