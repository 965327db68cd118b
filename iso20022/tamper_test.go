package iso20022

import (
	"regexp"
	"strings"
	"testing"
)

// The validator refuses what the schemas refuse: a message this package
// wrote, changed in one place, no longer validates. Without this, a
// validator that accepted anything would pass every other test.
func TestValidatorCatchesTampering(t *testing.T) {
	pacs, err := SettlementPacs009(threeProviders())
	if err != nil {
		t.Fatal(err)
	}
	s, err := StatementOfCycle(threeProviders(), "PRVADEFF")
	if err != nil {
		t.Fatal(err)
	}
	camt053, err := Camt053(s)
	if err != nil {
		t.Fatal(err)
	}
	camt054, err := Camt054(sampleNotification())
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range [][]byte{pacs, camt053, camt054} {
		mustValidate(t, doc)
	}
	for _, tc := range []struct {
		name string
		doc  []byte
		edit func(string) string
	}{
		{"amount with six decimals", pacs, func(s string) string { return first(s, "16.000001") }},
		{"negative amount", pacs, func(s string) string { return first(s, "-16.00") }},
		{"amount of 19 digits", pacs, func(s string) string { return first(s, "99999999999999999.99") }},
		{"amount in exponent form", pacs, func(s string) string { return first(s, "1.6e+01") }},
		{"currency of four letters", pacs, func(s string) string { return strings.Replace(s, `Ccy="EUR"`, `Ccy="EURO"`, 1) }},
		{"no EndToEndId", pacs, func(s string) string { return cut(s, "<EndToEndId>", "</EndToEndId>") }},
		{"no NbOfTxs", pacs, func(s string) string { return cut(s, "<NbOfTxs>", "</NbOfTxs>") }},
		{"a BIC of 9 characters", pacs, func(s string) string { return strings.Replace(s, "<BICFI>PRVADEFF<", "<BICFI>PRVADEFFX<", 1) }},
		{"settlement method unknown", pacs, func(s string) string { return strings.Replace(s, ">INDA<", ">NETT<", 1) }},
		{"balance without CdtDbtInd", camt053, func(s string) string { return cut(s, "<CdtDbtInd>", "</CdtDbtInd>") }},
		// The schema does not know a currency's decimals (0.001 EUR validates):
		// ParseDecimal, which readers use, refuses it (TestParseDecimal).
		{"balance amount with a comma", camt053, func(s string) string { return first(s, "0,00") }},
		{"entry without BkTxCd", camt054, func(s string) string { return cut(s, "<BkTxCd>", "</BkTxCd>") }},
		{"entry with both credit and debit", camt054, func(s string) string {
			return strings.Replace(s, "<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>CRDT</CdtDbtInd><CdtDbtInd>DBIT</CdtDbtInd>", 1)
		}},
		{"an element the schema does not have", camt054, func(s string) string {
			return strings.Replace(s, "</MsgId>", "</MsgId><Note>x</Note>", 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := tc.edit(string(tc.doc))
			if changed == string(tc.doc) {
				t.Fatal("the edit changed nothing")
			}
			if err := validate(t, []byte(changed)); err == nil {
				t.Fatalf("the tampered message validates:\n%s", changed)
			} else {
				t.Logf("refused: %v", err)
			}
		})
	}
}

var firstAmount = regexp.MustCompile(`(Ccy="[A-Z]{3}">)[^<]*(<)`)

// first replaces the value of the first amount in s by v.
func first(s, v string) string {
	loc := firstAmount.FindStringSubmatchIndex(s)
	if loc == nil {
		return s
	}
	return s[:loc[3]] + v + s[loc[4]:]
}

// cut removes the first element from open to close, both included.
func cut(s, open, close string) string {
	i := strings.Index(s, open)
	j := strings.Index(s, close)
	if i < 0 || j < i {
		return s
	}
	return s[:i] + s[j+len(close):]
}
