package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay/iso20022/isotest"
	"github.com/offpay/offpay/scheme"
)

// TestSchemeClearISO: a clearing cycle of the scheme becomes a pacs.009
// and one camt.053 per provider that validate against the ISO schemas and
// carry the cycle's figures; a cycle that does not hold gets none.
func TestSchemeClearISO(t *testing.T) {
	c := &scheme.Cycle{Number: 7, At: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), Currency: "EUR",
		Transfers:  []scheme.Transfer{{From: "bankA", To: "bankB", Amount: 1250}, {From: "bankB", To: "bankC", Amount: 300}, {From: "bankC", To: "bankA", Amount: 50}},
		Positions:  []scheme.Position{{Provider: "bankA", Net: -1200}, {Provider: "bankB", Net: 950}, {Provider: "bankC", Net: 250}},
		Federation: scheme.Totals{Holds: true}}
	dir := t.TempDir()
	files, err := writeCycleISO(c, dir, "offpay-scheme", "settlement-agent")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("files %v, want a pacs.009 and three camt.053", files)
	}
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		isotest.MustValidate(t, doc)
		base := filepath.Base(f)
		switch {
		case strings.HasSuffix(base, "pacs009.xml"):
			for _, amt := range []string{">12.00<", ">9.50<", ">2.50<"} {
				if !bytes.Contains(doc, []byte(amt)) {
					t.Errorf("the pacs.009 lacks the amount %s", amt)
				}
			}
		case strings.HasSuffix(base, "camt053-bankA.xml"):
			if !bytes.Contains(doc, []byte(">12.50<")) || !bytes.Contains(doc, []byte(">0.50<")) {
				t.Errorf("bankA's statement lacks its obligations:\n%s", doc)
			}
		}
	}
	c.Federation.Holds = false
	other := filepath.Join(t.TempDir(), "none")
	if _, err := writeCycleISO(c, other, "offpay-scheme", "settlement-agent"); !errors.Is(err, errCycleDoesNotHold) {
		t.Fatalf("a cycle that does not hold: %v", err)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Fatalf("files written for a cycle that does not hold: %v", err)
	}
}
