package ledger

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/offpay/offpay"
)

// money formats minor units of currency for messages: "12.50 EUR".
func money(minor int64, currency string) string {
	c, err := offpay.LookupCurrency(currency)
	if err != nil {
		return fmt.Sprintf("%d (minor units) %s", minor, currency)
	}
	return offpay.FormatMinor(minor, c.Exponent) + " " + c.Code
}

// CheckText checks a free-text field an operator gives (a deposit's ref, a
// revocation's reason), which statements, reports and terminals show
// again: it must be valid UTF-8 (two invalid byte sequences would
// otherwise both read as U+FFFD and collide) and hold no control
// characters (C0, DEL, C1), no line or paragraph separators, and no
// bidirectional embedding, override or isolate characters, which rewrite
// what a terminal or a log viewer shows.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r), r == '\u2028', r == '\u2029',
			r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return invalid("%s holds the control character %U: use printable text", field, r)
		}
	}
	return nil
}
