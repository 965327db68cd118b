package offpay

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TSTSAT is a custom currency with the largest allowed exponent.
func init() {
	if err := RegisterCurrency(Currency{Code: "TSTSAT", Exponent: 8}); err != nil {
		panic(err)
	}
}

func TestParseAmountAccepted(t *testing.T) {
	tests := []struct {
		in       string
		minor    int64
		currency string
		str      string // canonical form
	}{
		{"12.50 EUR", 1250, "EUR", "12.50 EUR"},
		{"12 EUR", 1200, "EUR", "12.00 EUR"},
		{"12.5 EUR", 1250, "EUR", "12.50 EUR"},
		{"0.05 USD", 5, "USD", "0.05 USD"},
		{"0 USD", 0, "USD", "0.00 USD"},
		{"0.0 USD", 0, "USD", "0.00 USD"},
		{"0.00 USD", 0, "USD", "0.00 USD"},
		{"1000 JPY", 1000, "JPY", "1000 JPY"},
		{"0 JPY", 0, "JPY", "0 JPY"},
		{"0.005 KWD", 5, "KWD", "0.005 KWD"},
		{"1.5 BHD", 1500, "BHD", "1.500 BHD"},
		{"250 XOF", 250, "XOF", "250 XOF"},
		{"1.0001 CLF", 10001, "CLF", "1.0001 CLF"},
		{"0.00000001 TSTSAT", 1, "TSTSAT", "0.00000001 TSTSAT"},
		{"21000000 TSTSAT", 2_100_000_000_000_000, "TSTSAT", "21000000.00000000 TSTSAT"},
		// The int64 boundary, at every exponent.
		{"9223372036854775807 JPY", math.MaxInt64, "JPY", "9223372036854775807 JPY"},
		{"92233720368547758.07 EUR", math.MaxInt64, "EUR", "92233720368547758.07 EUR"},
		{"9223372036854775.807 KWD", math.MaxInt64, "KWD", "9223372036854775.807 KWD"},
		{"92233720368.54775807 TSTSAT", math.MaxInt64, "TSTSAT", "92233720368.54775807 TSTSAT"},
		{"92233720368547758 EUR", 9223372036854775800, "EUR", "92233720368547758.00 EUR"},
		{"92233720368547758.0 EUR", 9223372036854775800, "EUR", "92233720368547758.00 EUR"},
	}
	for _, tt := range tests {
		a, err := ParseAmount(tt.in)
		if err != nil {
			t.Errorf("ParseAmount(%q): %v", tt.in, err)
			continue
		}
		if a.Minor != tt.minor || a.Currency != tt.currency {
			t.Errorf("ParseAmount(%q) = %+v, want %d %s", tt.in, a, tt.minor, tt.currency)
		}
		if got := a.String(); got != tt.str {
			t.Errorf("ParseAmount(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
	}
}

func TestParseAmountRejected(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		// Syntax.
		{"", ErrBadAmount},
		{"12", ErrBadAmount},
		{"EUR", ErrBadAmount},
		{" EUR", ErrBadAmount},
		{"12 ", ErrBadAmount},
		{"-12 EUR", ErrBadAmount},
		{"+12 EUR", ErrBadAmount},
		{"-0 EUR", ErrBadAmount},
		{"1e3 EUR", ErrBadAmount},
		{"1E3 EUR", ErrBadAmount},
		{"1.5e2 EUR", ErrBadAmount},
		{"1,000 EUR", ErrBadAmount},
		{"1,50 EUR", ErrBadAmount},
		{"1_000 EUR", ErrBadAmount},
		{"1 000 EUR", ErrBadAmount},
		{"12. EUR", ErrBadAmount},
		{".5 EUR", ErrBadAmount},
		{". EUR", ErrBadAmount},
		{"1.2.3 EUR", ErrBadAmount},
		{"1..2 EUR", ErrBadAmount},
		{"007 EUR", ErrBadAmount},
		{"00 EUR", ErrBadAmount},
		{"00.50 EUR", ErrBadAmount},
		{"0x10 EUR", ErrBadAmount},
		{"12.50  EUR", ErrBadAmount},
		{"12.50 EUR ", ErrBadAmount},
		{" 12.50 EUR", ErrBadAmount},
		{"12.50\tEUR", ErrBadAmount},
		{"12.50 EUR\n", ErrBadAmount},
		{"12.50EUR", ErrBadAmount},
		{"EUR 12.50", ErrBadAmount},
		{"١٢ EUR", ErrBadAmount}, // Arabic-Indic digits
		{"１２ EUR", ErrBadAmount}, // full-width digits
		{"NaN EUR", ErrBadAmount},
		{"Inf EUR", ErrBadAmount},
		// Currency.
		{"12.50 eur", ErrUnknownCurrency},
		{"12.50 Eur", ErrUnknownCurrency},
		{"12.50 XYZ", ErrUnknownCurrency},
		{"12.50 EURO", ErrUnknownCurrency},
		{"12.50 €", ErrUnknownCurrency},
		// The currency's exponent.
		{"12.5 JPY", ErrTooManyDecimals},
		{"1.0 JPY", ErrTooManyDecimals},
		{"1.234 EUR", ErrTooManyDecimals},
		{"1.230 EUR", ErrTooManyDecimals},
		{"0.0001 KWD", ErrTooManyDecimals},
		{"0.000000001 TSTSAT", ErrTooManyDecimals},
		// Overflow at the int64 boundary.
		{"9223372036854775808 JPY", ErrOverflow},
		{"92233720368547758.08 EUR", ErrOverflow},
		{"92233720368547759 EUR", ErrOverflow},
		{"9223372036854775.808 KWD", ErrOverflow},
		{"92233720368.54775808 TSTSAT", ErrOverflow},
		{"18446744073709551615 JPY", ErrOverflow},
		{"18446744073709551616 JPY", ErrOverflow},
		{"99999999999999999999 JPY", ErrOverflow},
		{"1" + strings.Repeat("0", 100) + " JPY", ErrOverflow},
		{"100000000000000000 EUR", ErrOverflow},
	}
	for _, tt := range tests {
		a, err := ParseAmount(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseAmount(%q) = %+v, %v; want %v", tt.in, a, err, tt.want)
			continue
		}
		if a != (Amount{}) {
			t.Errorf("ParseAmount(%q) returned %+v with its error", tt.in, a)
		}
		if ErrorCode(err) != EINVALID {
			t.Errorf("ParseAmount(%q): code %q, want invalid", tt.in, ErrorCode(err))
		}
		if ErrorMessage(err) == "internal error" || len(err.Error()) > 256 {
			t.Errorf("ParseAmount(%q): unhelpful message %q", tt.in, err.Error())
		}
	}
}

func TestParseAmountIn(t *testing.T) {
	tests := []struct {
		in, def string
		want    Amount
		err     error
	}{
		{"12.50", "EUR", Amount{1250, "EUR"}, nil},
		{"12", "EUR", Amount{1200, "EUR"}, nil},
		{"1000", "JPY", Amount{1000, "JPY"}, nil},
		{"12.50 EUR", "EUR", Amount{1250, "EUR"}, nil},
		{"12.50 USD", "EUR", Amount{1250, "USD"}, nil}, // an explicit currency wins
		{"1000 JPY", "EUR", Amount{1000, "JPY"}, nil},
		{"12.5", "JPY", Amount{}, ErrTooManyDecimals},
		{"12.50 JPY", "EUR", Amount{}, ErrTooManyDecimals},
		{"12.50", "XYZ", Amount{}, ErrUnknownCurrency},
		{"12.50 EUR", "XYZ", Amount{}, ErrUnknownCurrency}, // a bad default is always an error
		{"12.50", "", Amount{}, ErrUnknownCurrency},
		{"12.50 ", "EUR", Amount{}, ErrBadAmount},
		{"", "EUR", Amount{}, ErrBadAmount},
		{"-1", "EUR", Amount{}, ErrBadAmount},
		{"12.", "EUR", Amount{}, ErrBadAmount},
		{"92233720368547758.08", "EUR", Amount{}, ErrOverflow},
	}
	for _, tt := range tests {
		got, err := ParseAmountIn(tt.in, tt.def)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseAmountIn(%q, %q) = %+v, %v; want %v", tt.in, tt.def, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAmountIn(%q, %q) = %+v, %v; want %+v", tt.in, tt.def, got, err, tt.want)
		}
	}
}

func TestNewAmount(t *testing.T) {
	if a, err := NewAmount(1250, "EUR"); err != nil || a != (Amount{1250, "EUR"}) {
		t.Errorf("NewAmount(1250, EUR) = %+v, %v", a, err)
	}
	if a, err := NewAmount(math.MaxInt64, "JPY"); err != nil || a.Minor != math.MaxInt64 {
		t.Errorf("NewAmount(MaxInt64, JPY) = %+v, %v", a, err)
	}
	if _, err := NewAmount(0, "EUR"); err != nil {
		t.Errorf("NewAmount(0, EUR): %v", err)
	}
	for _, n := range []int64{-1, math.MinInt64} {
		if _, err := NewAmount(n, "EUR"); !errors.Is(err, ErrNegative) {
			t.Errorf("NewAmount(%d, EUR) = %v, want ErrNegative", n, err)
		}
	}
	for _, c := range []string{"", "eur", "XYZ"} {
		if _, err := NewAmount(1, c); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("NewAmount(1, %q) = %v, want ErrUnknownCurrency", c, err)
		}
	}
}

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{Amount{1250, "EUR"}, "12.50 EUR"},
		{Amount{5, "EUR"}, "0.05 EUR"},
		{Amount{0, "EUR"}, "0.00 EUR"},
		{Amount{1000, "JPY"}, "1000 JPY"},
		{Amount{5, "KWD"}, "0.005 KWD"},
		{Amount{math.MaxInt64, "EUR"}, "92233720368547758.07 EUR"},
		{Amount{5, "XYZ"}, "5 XYZ"},
		{Amount{}, "0"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		minor int64
		exp   uint8
		want  string
	}{
		{0, 0, "0"},
		{0, 2, "0.00"},
		{1, 2, "0.01"},
		{10, 2, "0.10"},
		{100, 2, "1.00"},
		{1250, 2, "12.50"},
		{5, 3, "0.005"},
		{1000, 0, "1000"},
		{-1250, 2, "-12.50"},
		{-5, 3, "-0.005"},
		{math.MaxInt64, 0, "9223372036854775807"},
		{math.MaxInt64, 2, "92233720368547758.07"},
		{math.MaxInt64, 19, "0.9223372036854775807"},
		{math.MaxInt64, 20, "0.09223372036854775807"},
		{math.MinInt64, 0, "-9223372036854775808"},
		{math.MinInt64, 2, "-92233720368547758.08"},
		{1, 8, "0.00000001"},
	}
	for _, tt := range tests {
		if got := FormatMinor(tt.minor, tt.exp); got != tt.want {
			t.Errorf("FormatMinor(%d, %d) = %q, want %q", tt.minor, tt.exp, got, tt.want)
		}
	}
}

func TestAmountArithmetic(t *testing.T) {
	eur := func(n int64) Amount { return Amount{n, "EUR"} }
	max := eur(math.MaxInt64)
	tests := []struct {
		name    string
		op      func(Amount, Amount) (Amount, error)
		a, b    Amount
		want    Amount
		wantErr error
	}{
		{"add", Amount.Add, eur(1250), eur(5), eur(1255), nil},
		{"add zero", Amount.Add, eur(0), eur(0), eur(0), nil},
		{"add to max", Amount.Add, eur(math.MaxInt64 - 1), eur(1), max, nil},
		{"add overflow", Amount.Add, max, eur(1), Amount{}, ErrOverflow},
		{"add overflow max", Amount.Add, max, max, Amount{}, ErrOverflow},
		{"add mismatch", Amount.Add, eur(1), Amount{1, "USD"}, Amount{}, ErrCurrencyMismatch},
		{"add unknown", Amount.Add, Amount{1, "XYZ"}, Amount{1, "XYZ"}, Amount{}, ErrUnknownCurrency},
		{"add zero value", Amount.Add, Amount{}, Amount{}, Amount{}, ErrUnknownCurrency},
		{"add negative", Amount.Add, eur(-1), eur(5), Amount{}, ErrNegative},
		{"add negative b", Amount.Add, eur(5), eur(math.MinInt64), Amount{}, ErrNegative},
		{"sub", Amount.Sub, eur(1250), eur(50), eur(1200), nil},
		{"sub to zero", Amount.Sub, max, max, eur(0), nil},
		{"sub below zero", Amount.Sub, eur(1), eur(2), Amount{}, ErrNegative},
		{"sub max below zero", Amount.Sub, eur(0), max, Amount{}, ErrNegative},
		{"sub negative b", Amount.Sub, eur(1), eur(-1), Amount{}, ErrNegative},
		{"sub mismatch", Amount.Sub, Amount{5, "JPY"}, Amount{5, "KWD"}, Amount{}, ErrCurrencyMismatch},
	}
	for _, tt := range tests {
		got, err := tt.op(tt.a, tt.b)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || ErrorCode(err) != EINVALID {
				t.Errorf("%s: got %+v, %v; want %v", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestMinorArithmetic(t *testing.T) {
	const max, min = math.MaxInt64, math.MinInt64
	add := []struct {
		a, b, want int64
		overflow   bool
	}{
		{1, 2, 3, false},
		{-1, -2, -3, false},
		{max, 0, max, false},
		{max, 1, 0, true},
		{max, max, 0, true},
		{min, 0, min, false},
		{min, -1, 0, true},
		{min, min, 0, true},
		{max, min, -1, false},
		{max, -1, max - 1, false},
	}
	for _, tt := range add {
		got, err := AddMinor(tt.a, tt.b)
		if tt.overflow != errors.Is(err, ErrOverflow) || (!tt.overflow && got != tt.want) {
			t.Errorf("AddMinor(%d, %d) = %d, %v", tt.a, tt.b, got, err)
		}
	}
	sub := []struct {
		a, b, want int64
		overflow   bool
	}{
		{3, 2, 1, false},
		{2, 3, -1, false},
		{0, max, -max, false},
		{-1, max, min, false},
		{-2, max, 0, true},
		{0, min, 0, true},
		{-1, min, max, false},
		{max, -1, 0, true},
		{min, 1, 0, true},
		{min, min, 0, false},
		{max, max, 0, false},
	}
	for _, tt := range sub {
		got, err := SubMinor(tt.a, tt.b)
		if tt.overflow != errors.Is(err, ErrOverflow) || (!tt.overflow && got != tt.want) {
			t.Errorf("SubMinor(%d, %d) = %d, %v", tt.a, tt.b, got, err)
		}
	}
	sum := []struct {
		xs       []int64
		want     int64
		overflow bool
	}{
		{nil, 0, false},
		{[]int64{5}, 5, false},
		{[]int64{1, 2, 3}, 6, false},
		{[]int64{max, 1}, 0, true},
		{[]int64{min, -1}, 0, true},
		{[]int64{max, 1, -1}, max, false}, // partial sums may leave the range
		{[]int64{max, max, min, min, 5}, 3, false},
		{[]int64{min, -1, 1}, min, false},
		{[]int64{max, max, max, max}, 0, true},
		{[]int64{min, min, min, min}, 0, true},
		{[]int64{max, max, -max}, max, false},
	}
	for _, tt := range sum {
		got, err := SumMinor(tt.xs...)
		if tt.overflow != errors.Is(err, ErrOverflow) || (!tt.overflow && got != tt.want) {
			t.Errorf("SumMinor(%v) = %d, %v", tt.xs, got, err)
		}
	}
}
