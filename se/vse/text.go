package vse

import (
	"fmt"
	"time"

	"github.com/offpay/offpay"
)

// Messages name amounts in the purse's currency ("12.50 EUR") and times
// in RFC 3339, as a person reads them; the codes say the rest.

// money formats minor units of the purse's currency.
func (v *VSE) money(minor uint64) string {
	cur := ""
	if v.cert != nil {
		cur = v.cert.Currency
	}
	return money(minor, cur)
}

func money(minor uint64, currency string) string {
	c, err := offpay.LookupCurrency(currency)
	if err != nil || minor > 1<<63-1 {
		return fmt.Sprintf("%d (minor units) %s", minor, currency)
	}
	return offpay.FormatMinor(int64(minor), c.Exponent) + " " + c.Code
}

// when formats unix seconds.
func when(t uint64) string {
	if t > 1<<62 {
		return fmt.Sprintf("unix time %d", t)
	}
	return time.Unix(int64(t), 0).UTC().Format(time.RFC3339)
}
