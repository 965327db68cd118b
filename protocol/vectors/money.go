package vectors

// moneyVectors: ParseAmount of the root package, the one text form of an
// amount ("12.50 EUR"). Valid vectors give the minor units.
func moneyVectors() []Vector {
	ok := func(name, text string, minor int64, cur, desc string) Vector {
		return Vector{Name: name, Description: desc, MessageType: "amount", Input: Input{Text: text}, Expect: Valid,
			Output: &Output{Minor: &minor, Currency: cur}}
	}
	bad := func(name, text, class, desc string) Vector {
		return Vector{Name: name, Description: desc, MessageType: "amount", Input: Input{Text: text}, Expect: class}
	}
	return []Vector{
		ok("amount-eur-valid", "12.50 EUR", 1250, "EUR", "Two decimals, as formatted."),
		ok("amount-eur-short-fraction-valid", "12.5 EUR", 1250, "EUR", "Fewer fraction digits than the exponent are allowed."),
		ok("amount-jpy-valid", "1000 JPY", 1000, "JPY", "JPY has exponent 0."),
		ok("amount-kwd-valid", "0.005 KWD", 5, "KWD", "KWD has exponent 3."),
		ok("amount-max-valid", "92233720368547758.07 EUR", 1<<63-1, "EUR", "2^63-1 minor units, the largest amount."),
		bad("amount-jpy-fraction", "12.5 JPY", MoneyTooManyDecimals, "A fraction digit in a currency with exponent 0."),
		bad("amount-eur-three-decimals", "1.234 EUR", MoneyTooManyDecimals, "Three fraction digits for EUR (exponent 2)."),
		bad("amount-overflow", "92233720368547758.08 EUR", MoneyOverflow, "2^63 minor units."),
		bad("amount-lower-case-code", "12.50 eur", MoneyUnknownCurrency, "Codes are case-sensitive."),
		bad("amount-leading-zero", "012.50 EUR", MoneyMalformed, "A leading zero."),
		bad("amount-no-space", "12.50EUR", MoneyMalformed, "No space before the code."),
		bad("amount-negative", "-1.00 EUR", MoneyMalformed, "A sign."),
		bad("amount-trailing-dot", "12. EUR", MoneyMalformed, "A dot without fraction digits."),
	}
}
