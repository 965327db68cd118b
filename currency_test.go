package offpay

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestLookupCurrencyISO(t *testing.T) {
	want := map[string]uint8{
		"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3, "BHD": 3, "XOF": 0, "XAF": 0,
		"CHF": 2, "GBP": 2, "INR": 2, "KES": 2, "NGN": 2, "BRL": 2, "CNY": 2,
		"KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "OMR": 3, "JOD": 3,
		"TND": 3, "CLF": 4, "ZAR": 2, "MXN": 2, "IDR": 2, "HUF": 2,
	}
	for code, exp := range want {
		c, err := LookupCurrency(code)
		if err != nil {
			t.Errorf("LookupCurrency(%s): %v", code, err)
			continue
		}
		if c.Code != code || c.Exponent != exp {
			t.Errorf("LookupCurrency(%s) = %+v, want exponent %d", code, c, exp)
		}
	}
	if n := len(isoCurrencies); n < 40 {
		t.Errorf("ISO table has %d codes, want at least 40", n)
	}
	for code, exp := range isoCurrencies {
		if len(code) != 3 || !validCode(code) || exp > 4 {
			t.Errorf("bad ISO entry %q: %d", code, exp)
		}
	}
}

func TestLookupCurrencyUnknown(t *testing.T) {
	for _, code := range []string{"", "eur", "Eur", "EUR ", "XXXX", "ZZZ", "€"} {
		_, err := LookupCurrency(code)
		if !errors.Is(err, ErrUnknownCurrency) || ErrorCode(err) != EINVALID {
			t.Errorf("LookupCurrency(%q) = %v, want ErrUnknownCurrency", code, err)
		}
	}
}

func TestRegisterCurrency(t *testing.T) {
	if err := RegisterCurrency(Currency{Code: "TSTREG1", Exponent: 8}); err != nil {
		t.Fatal(err)
	}
	c, err := LookupCurrency("TSTREG1")
	if err != nil || c.Exponent != 8 {
		t.Fatalf("LookupCurrency after register = %+v, %v", c, err)
	}
	if err := RegisterCurrency(Currency{Code: "TSTREG1", Exponent: 8}); err != nil {
		t.Errorf("identical re-registration: %v", err)
	}
	if err := RegisterCurrency(Currency{Code: "TSTREG1", Exponent: 2}); ErrorCode(err) != ECONFLICT {
		t.Errorf("re-registration with another exponent = %v, want conflict", err)
	}
	if c, _ := LookupCurrency("TSTREG1"); c.Exponent != 8 {
		t.Errorf("conflicting registration changed the exponent to %d", c.Exponent)
	}

	bad := []struct {
		c    Currency
		want Code
	}{
		{Currency{Code: "EUR", Exponent: 2}, ECONFLICT},
		{Currency{Code: "JPY", Exponent: 2}, ECONFLICT},
		{Currency{Code: "AB", Exponent: 2}, EINVALID},
		{Currency{Code: "ABCDEFGHI", Exponent: 2}, EINVALID},
		{Currency{Code: "abc", Exponent: 2}, EINVALID},
		{Currency{Code: "AB-C", Exponent: 2}, EINVALID},
		{Currency{Code: "AB C", Exponent: 2}, EINVALID},
		{Currency{Code: "", Exponent: 2}, EINVALID},
		{Currency{Code: "TSTEXP9", Exponent: 9}, EINVALID},
	}
	for _, tt := range bad {
		if err := RegisterCurrency(tt.c); ErrorCode(err) != tt.want {
			t.Errorf("RegisterCurrency(%+v) = %v, want %s", tt.c, err, tt.want)
		}
	}
	if _, err := LookupCurrency("TSTEXP9"); err == nil {
		t.Error("rejected registration is visible")
	}
	for _, ok := range []string{"ABC", "ABCDEFGH", "A1B2", "999"} {
		if err := RegisterCurrency(Currency{Code: ok, Exponent: 0}); err != nil {
			t.Errorf("RegisterCurrency(%s): %v", ok, err)
		}
	}
}

func TestRegisterCurrencyConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := fmt.Sprintf("TSTC%02d", i%4) // several goroutines share each code
			for range 50 {
				if err := RegisterCurrency(Currency{Code: code, Exponent: 2}); err != nil {
					errs <- err
					return
				}
				if _, err := LookupCurrency(code); err != nil {
					errs <- err
					return
				}
				if _, err := ParseAmount("1.00 " + code); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
