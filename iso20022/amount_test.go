package iso20022

import (
	"errors"
	"math"
	"testing"

	"github.com/offpay/offpay"
)

func TestDecimal(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   string
		want  string
	}{
		{0, "EUR", "0.00"},
		{1, "EUR", "0.01"},
		{10, "EUR", "0.10"},
		{1250, "EUR", "12.50"},
		{0, "JPY", "0"},
		{1, "JPY", "1"},
		{1000, "JPY", "1000"},
		{0, "KWD", "0.000"},
		{1, "KWD", "0.001"},
		{5, "KWD", "0.005"},
		{1234, "KWD", "1.234"},
		{1, "CLF", "0.0001"},
		{MaxMinor, "EUR", "9999999999999999.99"},
		{MaxMinor, "JPY", "999999999999999999"},
		{MaxMinor, "KWD", "999999999999999.999"},
		{1e17, "EUR", "1000000000000000.00"},
	} {
		got, err := Decimal(tc.minor, tc.cur)
		if err != nil || got != tc.want {
			t.Errorf("Decimal(%d, %s) = %q, %v; want %q", tc.minor, tc.cur, got, err, tc.want)
			continue
		}
		back, err := ParseDecimal(got, tc.cur)
		if err != nil || back != tc.minor {
			t.Errorf("ParseDecimal(%q, %s) = %d, %v; want %d", got, tc.cur, back, err, tc.minor)
		}
	}
}

func TestDecimalRefuses(t *testing.T) {
	if err := offpay.RegisterCurrency(offpay.Currency{Code: "SAT", Exponent: 8}); err != nil {
		t.Fatal(err)
	}
	if err := offpay.RegisterCurrency(offpay.Currency{Code: "XCOMM", Exponent: 2}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		minor int64
		cur   string
		want  error
	}{
		{MaxMinor + 1, "EUR", ErrAmountTooLarge},
		{math.MaxInt64, "EUR", ErrAmountTooLarge},
		{math.MaxInt64, "JPY", ErrAmountTooLarge},
		{math.MaxInt64, "KWD", ErrAmountTooLarge},
		{-1, "EUR", offpay.ErrNegative},
		{math.MinInt64, "EUR", offpay.ErrNegative},
		{1, "SAT", ErrCurrency},   // 8 decimals: more than ISO's 5
		{1, "XCOMM", ErrCurrency}, // not three letters
		{1, "ZZZ", ErrCurrency},   // unknown
		{1, "eur", ErrCurrency},
	} {
		got, err := Decimal(tc.minor, tc.cur)
		if !errors.Is(err, tc.want) || got != "" {
			t.Errorf("Decimal(%d, %s) = %q, %v; want %v", tc.minor, tc.cur, got, err, tc.want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		s, cur string
		want   int64
		ok     bool
	}{
		{"12.5", "EUR", 1250, true},
		{"012.50", "EUR", 1250, true},
		{"12.500", "EUR", 1250, true}, // xs:decimal allows trailing zeros
		{"0", "EUR", 0, true},
		{"0.000", "KWD", 0, true},
		{"12.345", "EUR", 0, false}, // more decimals than EUR has
		{"1.5", "JPY", 0, false},
		{"-1", "EUR", 0, false},
		{"+1", "EUR", 0, false},
		{"1e3", "EUR", 0, false},
		{"", "EUR", 0, false},
		{".5", "EUR", 0, false},
		{"10000000000000000.00", "EUR", 0, false}, // 19 digits
		{"92233720368547758.07", "EUR", 0, false}, // MaxInt64 minor units
		{"99999999999999999999", "JPY", 0, false}, // beyond int64
	} {
		got, err := ParseDecimal(tc.s, tc.cur)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDecimal(%q, %s) = %d, %v; want %d (ok %v)", tc.s, tc.cur, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzDecimal: Decimal and ParseDecimal are inverse for every int64 in
// every exponent, and Decimal refuses exactly what does not fit.
func FuzzDecimal(f *testing.F) {
	for _, v := range []int64{0, 1, 99, 100, 1250, MaxMinor, MaxMinor + 1, math.MaxInt64, -1, math.MinInt64} {
		for _, c := range []uint8{0, 1, 2, 3} {
			f.Add(v, c)
		}
	}
	codes := []string{"JPY", "EUR", "KWD", "CLF"}
	f.Fuzz(func(t *testing.T, minor int64, which uint8) {
		cur := codes[int(which)%len(codes)]
		s, err := Decimal(minor, cur)
		if minor < 0 || minor > MaxMinor {
			if err == nil {
				t.Fatalf("Decimal(%d, %s) = %q, want an error", minor, cur, s)
			}
			return
		}
		if err != nil {
			t.Fatalf("Decimal(%d, %s): %v", minor, cur, err)
		}
		back, err := ParseDecimal(s, cur)
		if err != nil || back != minor {
			t.Fatalf("ParseDecimal(%q) = %d, %v; want %d", s, back, err, minor)
		}
	})
}
