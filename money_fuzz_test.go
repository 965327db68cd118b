package offpay

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// amountGrammar is the accepted syntax of ParseAmount, written independently
// of the parser: the fuzzer checks that the parser agrees with it.
var amountGrammar = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.([0-9]+))? ([A-Z0-9]{3,8})$`)

var maxInt64 = big.NewInt(math.MaxInt64)

// referenceParse returns the minor units s stands for according to the
// grammar and big-number arithmetic, or ok false if s must be rejected.
func referenceParse(s string) (minor int64, code string, ok bool) {
	m := amountGrammar.FindStringSubmatch(s)
	if m == nil {
		return 0, "", false
	}
	cur, err := LookupCurrency(m[4])
	if err != nil || len(m[3]) > int(cur.Exponent) {
		return 0, "", false
	}
	r, rok := new(big.Rat).SetString(m[1] + m[2])
	if !rok {
		panic("grammar accepted what big.Rat rejects: " + s)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cur.Exponent)), nil)
	r.Mul(r, new(big.Rat).SetInt(scale))
	if !r.IsInt() {
		panic("fraction digits not covered by exponent: " + s)
	}
	if r.Num().Cmp(maxInt64) > 0 {
		return 0, "", false
	}
	return r.Num().Int64(), cur.Code, true
}

var parseSeeds = []string{
	"12.50 EUR", "12 EUR", "12.5 EUR", "0.05 USD", "1000 JPY", "0.005 KWD",
	"0 EUR", "0.0 EUR", "1.0001 CLF", "0.00000001 TSTSAT",
	"9223372036854775807 JPY", "9223372036854775808 JPY",
	"92233720368547758.07 EUR", "92233720368547758.08 EUR",
	"92233720368.54775807 TSTSAT", "99999999999999999999 JPY",
	"12.5 JPY", "1.234 EUR", "12. EUR", ".5 EUR", "-1 EUR", "+1 EUR", "1e3 EUR",
	"1,000 EUR", "1 000 EUR", "007 EUR", "12.50 eur", "12.50  EUR", "12.50",
	"", " ", ".", "0", "1.2.3 EUR", "12.50 EUR ", "\x00 EUR", "١٢ EUR",
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		wantMinor, wantCode, wantOK := referenceParse(s)
		if err != nil {
			if wantOK {
				t.Fatalf("ParseAmount(%q) rejected a valid amount: %v", s, err)
			}
			if a != (Amount{}) {
				t.Fatalf("ParseAmount(%q) returned %+v with error %v", s, a, err)
			}
			if !isAmountError(err) {
				t.Fatalf("ParseAmount(%q): error %v wraps no money sentinel", s, err)
			}
			if ErrorCode(err) != EINVALID || len(err.Error()) > 256 {
				t.Fatalf("ParseAmount(%q): error %q, code %q", s, err, ErrorCode(err))
			}
			return
		}
		if !wantOK {
			t.Fatalf("ParseAmount(%q) = %+v, want an error", s, a)
		}
		if a.Minor != wantMinor || a.Currency != wantCode {
			t.Fatalf("ParseAmount(%q) = %+v, want %d %s", s, a, wantMinor, wantCode)
		}
		checkCanonical(t, a)

		// A bare number in a default currency reads like the full form.
		num, code, _ := strings.Cut(s, " ")
		b, err := ParseAmountIn(num, code)
		if err != nil || b != a {
			t.Fatalf("ParseAmountIn(%q, %q) = %+v, %v; want %+v", num, code, b, err, a)
		}
	})
}

// checkCanonical checks that a formats with its currency's exponent and
// that the format parses back to a and formats again to the same string.
func checkCanonical(t *testing.T, a Amount) {
	t.Helper()
	str := a.String()
	cur, err := LookupCurrency(a.Currency)
	if err != nil {
		t.Fatal(err)
	}
	num, _, _ := strings.Cut(str, " ")
	_, frac, _ := strings.Cut(num, ".")
	if len(frac) != int(cur.Exponent) {
		t.Fatalf("%+v.String() = %q: %d decimals, want %d", a, str, len(frac), cur.Exponent)
	}
	back, err := ParseAmount(str)
	if err != nil || back != a {
		t.Fatalf("ParseAmount(%q) = %+v, %v; want %+v", str, back, err, a)
	}
	if again := back.String(); again != str {
		t.Fatalf("format is not stable: %q then %q", str, again)
	}
}

func isAmountError(err error) bool {
	for _, s := range []error{ErrBadAmount, ErrUnknownCurrency, ErrTooManyDecimals, ErrOverflow} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzFormatAmount(f *testing.F) {
	f.Add(int64(0), "EUR")
	f.Add(int64(1250), "EUR")
	f.Add(int64(5), "KWD")
	f.Add(int64(math.MaxInt64), "JPY")
	f.Add(int64(math.MaxInt64), "TSTSAT")
	f.Add(int64(-1), "EUR")
	f.Add(int64(1), "eur")
	f.Fuzz(func(t *testing.T, minor int64, code string) {
		a, err := NewAmount(minor, code)
		if err != nil {
			if minor >= 0 && errors.Is(err, ErrNegative) {
				t.Fatalf("NewAmount(%d, %q): %v", minor, code, err)
			}
			if _, lerr := LookupCurrency(code); lerr == nil && minor >= 0 {
				t.Fatalf("NewAmount(%d, %q): %v", minor, code, err)
			}
			return
		}
		if minor < 0 {
			t.Fatalf("NewAmount(%d, %q) accepted a negative amount", minor, code)
		}
		checkCanonical(t, a)
	})
}

func FuzzAmountArithmetic(f *testing.F) {
	const max, min = math.MaxInt64, math.MinInt64
	seeds := [][3]int64{
		{0, 0, 0}, {1, 2, 3}, {max, 1, -1}, {max, max, min}, {min, -1, 1},
		{min, min, max}, {max, min, 0}, {-1, max, min}, {5, 3, -8},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c int64) {
		ba, bb, bc := big.NewInt(a), big.NewInt(b), big.NewInt(c)
		check := func(op string, got int64, err error, want *big.Int) {
			t.Helper()
			fits := want.IsInt64()
			if fits && (err != nil || got != want.Int64()) {
				t.Fatalf("%s = %d, %v; want %s", op, got, err, want)
			}
			if !fits && !errors.Is(err, ErrOverflow) {
				t.Fatalf("%s = %d, %v; want ErrOverflow (%s)", op, got, err, want)
			}
		}
		sum := new(big.Int).Add(ba, bb)
		diff := new(big.Int).Sub(ba, bb)
		s, err := AddMinor(a, b)
		check("AddMinor", s, err, sum)
		d, err := SubMinor(a, b)
		check("SubMinor", d, err, diff)
		total := new(big.Int).Add(sum, bc)
		s3, err := SumMinor(a, b, c)
		check("SumMinor", s3, err, total)
		s3r, err := SumMinor(c, b, a)
		check("SumMinor reversed", s3r, err, total)

		// Amounts: non-negative operands of one currency.
		x, y := Amount{a, "EUR"}, Amount{b, "EUR"}
		as, aerr := x.Add(y)
		ad, derr := x.Sub(y)
		if a < 0 || b < 0 {
			if !errors.Is(aerr, ErrNegative) || !errors.Is(derr, ErrNegative) {
				t.Fatalf("negative operands: Add %v, Sub %v", aerr, derr)
			}
			return
		}
		check("Amount.Add", as.Minor, aerr, sum)
		if aerr == nil && as.Currency != "EUR" {
			t.Fatalf("Amount.Add currency %q", as.Currency)
		}
		if diff.Sign() < 0 {
			if !errors.Is(derr, ErrNegative) {
				t.Fatalf("Amount.Sub(%d, %d) = %+v, %v; want ErrNegative", a, b, ad, derr)
			}
		} else {
			check("Amount.Sub", ad.Minor, derr, diff)
		}
		if _, err := x.Add(Amount{b, "USD"}); !errors.Is(err, ErrCurrencyMismatch) {
			t.Fatalf("Add across currencies: %v", err)
		}
	})
}
