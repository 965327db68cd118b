package iso20022

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from the code (then review the diff)")

// vector is one file of testdata/vectors: an input, and either the exact
// XML expected (the .xml file of the same name) or the error.
type vector struct {
	Description string        `json:"description"`
	Message     string        `json:"message"` // pacs.009.001.09, camt.053.001.08 or camt.054.001.08
	Cycle       *Cycle        `json:"cycle,omitempty"`
	Provider    string        `json:"provider,omitempty"` // camt.053 of a cycle: whose statement
	Statement   *Statement    `json:"statement,omitempty"`
	Notify      *Notification `json:"notification,omitempty"`
	Error       string        `json:"error,omitempty"` // the error expected instead of XML
}

var errorNames = map[string]error{
	"unbalanced": ErrUnbalanced, "obligations": ErrObligations, "amount_too_large": ErrAmountTooLarge,
	"currency": ErrCurrency, "field": ErrField, "nothing_to_settle": ErrNothingToSettle,
}

func (v *vector) build() ([]byte, error) {
	switch {
	case v.Message == "pacs.009.001.09" && v.Cycle != nil:
		return SettlementPacs009(v.Cycle)
	case v.Message == "camt.053.001.08" && v.Cycle != nil:
		s, err := StatementOfCycle(v.Cycle, v.Provider)
		if err != nil {
			return nil, err
		}
		return Camt053(s)
	case v.Message == "camt.053.001.08" && v.Statement != nil:
		return Camt053(v.Statement)
	case v.Message == "camt.054.001.08" && v.Notify != nil:
		return Camt054(v.Notify)
	}
	return nil, errors.New("vector has no input for its message")
}

// TestVectors builds each vector's message and compares it byte for byte
// with the expected XML, which must validate; error vectors must fail with
// their error. Another implementation checks itself against the same files
// (spec/iso20022.md).
func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil || len(files) < 8 {
		t.Fatalf("%d vectors (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v vector
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			got, err := v.build()
			if v.Error != "" {
				if want := errorNames[v.Error]; want == nil || !errors.Is(err, want) {
					t.Fatalf("got %v, want the error %q", err, v.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".json") + ".xml")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
			mustValidate(t, want)
		})
	}
}

// writeVectors writes the vectors (go test ./iso20022 -run TestVectors -update).
func writeVectors(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 30, 0, 123e6, time.UTC)
	c := threeProviders()
	unbalanced := threeProviders()
	unbalanced.Positions[2].Net = 801
	jpy := threeProviders()
	jpy.ID, jpy.Currency = "JPY-1", "JPY"
	half := MaxMinor / 2
	jpy.Positions[0].Net, jpy.Positions[1].Net, jpy.Positions[2].Net = -half, half-1, 1
	jpy.Obligations = []Obligation{{"PRVADEFF", "5299000PROVIDERB0042", half - 1}, {"PRVADEFF", "provider-c", 1}}
	tooLarge := threeProviders()
	tooLarge.Positions[0].Net, tooLarge.Positions[1].Net, tooLarge.Positions[2].Net = -MaxMinor, MaxMinor-1, 1
	tooLarge.Obligations = []Obligation{{"PRVADEFF", "5299000PROVIDERB0042", MaxMinor - 1}, {"PRVADEFF", "provider-c", 1}}
	one := int64(1)
	kwd := &Notification{MsgID: "n-kwd", ID: "acct-9:3", Account: "acct-9", Currency: "KWD", Created: at,
		Entries: []Entry{{Ref: "3", Amount: -1, Status: StatusBooked, BookingDate: at, ValueDate: at, Code: "load",
			Transactions: []Transaction{{Amount: &one, EndToEndID: "e2e-1"}}}}}
	escaped := threeProviders()
	escaped.ID = "esc-1"
	escaped.Scheme.Name = "Scheme & \"Co\" <'x'>\ttab\nline é€"
	stmt := &Statement{MsgID: "m-kwd", ID: "s-kwd", Account: "acct-9", Currency: "KWD", Created: at, OpeningDate: at.Add(-24 * time.Hour),
		Opening: -5, Entries: []Entry{
			{Ref: "1", Amount: 1, Status: StatusBooked, BookingDate: at, Code: "load", ServicerRef: "r1"},
			{Ref: "2", Amount: -1000, Status: StatusInfo, Code: "payment", Info: "told, not booked"},
			{Ref: "3", Amount: 2, Status: StatusPending, ValueDate: at, Code: "load"},
		}}
	vs := map[string]vector{
		"pacs009_escaping":        {Description: "text with the characters XML escapes (& < > \" ' tab newline) and non-ASCII", Message: "pacs.009.001.09", Cycle: escaped},
		"camt053_kwd_statuses":    {Description: "a KWD statement opening in debit, with booked, information and pending entries: only the booked one moves the closing balance", Message: "camt.053.001.08", Statement: stmt},
		"pacs009_three_providers": {Description: "a cycle of three providers (BIC, LEI, other id): one transfer per non-zero net position, debtors first", Message: "pacs.009.001.09", Cycle: c},
		"pacs009_jpy_largest":     {Description: "JPY (no decimals) with a total of 18 digits, the most an ISO amount holds", Message: "pacs.009.001.09", Cycle: jpy},
		"pacs009_unbalanced":      {Description: "net positions summing to 1: refused", Message: "pacs.009.001.09", Cycle: unbalanced, Error: "unbalanced"},
		"pacs009_total_too_large": {Description: "positions that fit but a total of 19 digits: refused", Message: "pacs.009.001.09", Cycle: tooLarge, Error: "amount_too_large"},
		"camt053_provider_a":      {Description: "provider A's statement of the three-provider cycle: closes at its net position, -16.00", Message: "camt.053.001.08", Cycle: c, Provider: "PRVADEFF"},
		"camt053_provider_b":      {Description: "provider B's statement: closes at +8.00", Message: "camt.053.001.08", Cycle: c, Provider: "5299000PROVIDERB0042"},
		"camt054_settle_in":       {Description: "one booked credit of 12.50 EUR with the payment it is made of", Message: "camt.054.001.08", Notify: sampleNotification()},
		"camt054_kwd_debit":       {Description: "a debit of 0.001 KWD (3 decimals)", Message: "camt.054.001.08", Notify: kwd},
		"camt054_no_entry":        {Description: "a notification without an entry: refused", Message: "camt.054.001.08", Notify: &Notification{MsgID: "m", ID: "i", Account: "a", Currency: "EUR", Created: at}, Error: "field"},
	}
	for name, v := range vs {
		raw, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/vectors/"+name+".json", append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		if v.Error != "" {
			continue
		}
		doc, err := v.build()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile("testdata/vectors/"+name+".xml", doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
