package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/offpay/offpay"
)

// parseAmount reads an amount a person typed, in currency unless it names
// its own ("12.50" or "12.50 EUR"), and refuses anything else in one line
// that names the accepted forms: a negative amount, a malformed one, more
// decimals than the currency has, another currency than holder's (the
// purse, the ledger), zero.
func parseAmount(what, s, currency, holder string) (int64, error) {
	c, cerr := offpay.LookupCurrency(currency)
	if cerr != nil {
		c = offpay.Currency{Code: "EUR", Exponent: 2}
	}
	forms := fmt.Sprintf("write a positive amount like %s or \"%s %s\"", offpay.FormatMinor(1250, c.Exponent), offpay.FormatMinor(1250, c.Exponent), c.Code)
	if c.Exponent > 0 {
		forms += fmt.Sprintf(", with at most %d decimal(s)", c.Exponent)
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, usageErrorf("%s %q is negative: %s", what, s, forms)
	}
	if cerr != nil {
		return 0, usageErrorf("%s %q: the currency is not known here (%v)", what, s, cerr)
	}
	a, err := offpay.ParseAmountIn(t, c.Code)
	switch {
	case errors.Is(err, offpay.ErrTooManyDecimals):
		return 0, usageErrorf("%s %q has more decimals than %s has: %s", what, s, c.Code, forms)
	case errors.Is(err, offpay.ErrUnknownCurrency):
		return 0, usageErrorf("%s %q names an unknown currency: %s", what, s, forms)
	case errors.Is(err, offpay.ErrOverflow):
		return 0, usageErrorf("%s %q is too large: %s", what, s, forms)
	case err != nil:
		return 0, usageErrorf("%s %q is not an amount: %s", what, s, forms)
	case a.Currency != c.Code:
		return 0, usageErrorf("%s %q is in %s, but %s counts %s: %s", what, s, a.Currency, holder, c.Code, forms)
	case a.Minor <= 0:
		return 0, usageErrorf("%s %q is zero: %s", what, s, forms)
	}
	return a.Minor, nil
}

// negativeNumber is an argument the flag package would take for a flag:
// "-5", "-12.50", "-12.50 EUR".
var negativeNumber = regexp.MustCompile(`^-[0-9.]`)
