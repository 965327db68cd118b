package iso20022

import (
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay"
)

// threeProviders is a cycle of three providers, one named by a BIC, one by
// an LEI, one by another identifier: A owes B 15.00, B owes C 7.00, C owes
// A 2.00, A owes C 3.00; net A -16.00, B +8.00, C +8.00.
func threeProviders() *Cycle {
	return &Cycle{
		ID: "2026-12-06T09", Currency: "EUR", Time: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
		Scheme:          Agent{ID: "OFPYDEFFXXX", Name: "offpay scheme"},
		SettlementAgent: Agent{ID: "CNTRDEFFXXX", Name: "settlement agent"},
		Positions: []Position{
			{Provider: Agent{ID: "PRVADEFF", Name: "Provider A"}, Net: -1600},
			{Provider: Agent{ID: "5299000PROVIDERB0042"}, Net: 800},
			{Provider: Agent{ID: "provider-c"}, Net: 800},
		},
		Obligations: []Obligation{
			{From: "PRVADEFF", To: "5299000PROVIDERB0042", Amount: 1500},
			{From: "5299000PROVIDERB0042", To: "provider-c", Amount: 700},
			{From: "provider-c", To: "PRVADEFF", Amount: 200},
			{From: "PRVADEFF", To: "provider-c", Amount: 300},
		},
	}
}

// idOf is the identifier an agent's XML carries, whichever element.
func idOf(a agentXML) string {
	id := a.FinInstnId
	switch {
	case id.BICFI != "":
		return id.BICFI
	case id.LEI != "":
		return id.LEI
	case id.Othr != nil:
		return id.Othr.Id
	}
	return ""
}

// readPacs009 decodes a pacs.009 and returns each agent's net movement in
// it (credits minus debits, in minor units) and the sum of its transfers.
func readPacs009(t *testing.T, doc []byte, currency string) (map[string]int64, *pacs009Document) {
	t.Helper()
	var d pacs009Document
	if err := xml.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	net := map[string]int64{}
	var sum int64
	for _, tx := range d.Msg.CdtTrfTxInf {
		if tx.IntrBkSttlmAmt.Ccy != currency {
			t.Fatalf("transfer in %s, want %s", tx.IntrBkSttlmAmt.Ccy, currency)
		}
		v, err := ParseDecimal(tx.IntrBkSttlmAmt.Value, currency)
		if err != nil {
			t.Fatal(err)
		}
		net[idOf(tx.Dbtr)] -= v
		net[idOf(tx.Cdtr)] += v
		sum += v
	}
	total, err := ParseDecimal(d.Msg.GrpHdr.TtlIntrBkSttlmAmt.Value, currency)
	if err != nil {
		t.Fatal(err)
	}
	if total != sum || d.Msg.GrpHdr.NbOfTxs != strconv.Itoa(len(d.Msg.CdtTrfTxInf)) {
		t.Fatalf("control totals: TtlIntrBkSttlmAmt %d, NbOfTxs %s; transfers sum to %d, %d of them",
			total, d.Msg.GrpHdr.NbOfTxs, sum, len(d.Msg.CdtTrfTxInf))
	}
	return net, &d
}

func TestPacs009MatchesPositions(t *testing.T) {
	c := threeProviders()
	doc, err := SettlementPacs009(c)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, doc)
	net, d := readPacs009(t, doc, "EUR")
	for _, p := range c.Positions {
		if net[p.Provider.ID] != p.Net {
			t.Errorf("%s moves %d in the message, its position is %d", p.Provider.ID, net[p.Provider.ID], p.Net)
		}
	}
	if net[c.SettlementAgent.ID] != 0 {
		t.Errorf("the settlement agent ends at %d, not 0", net[c.SettlementAgent.ID])
	}
	// One transfer per non-zero position, the net debtor's first.
	if n := len(d.Msg.CdtTrfTxInf); n != 3 || idOf(d.Msg.CdtTrfTxInf[0].Dbtr) != "PRVADEFF" {
		t.Errorf("%d transfers, the first from %s", n, idOf(d.Msg.CdtTrfTxInf[0].Dbtr))
	}
	// Each identifier in its own element.
	for _, want := range []string{"<BICFI>PRVADEFF</BICFI>", "<LEI>5299000PROVIDERB0042</LEI>", "<Othr>\n", "<Id>provider-c</Id>",
		"<TtlIntrBkSttlmAmt Ccy=\"EUR\">32.00</TtlIntrBkSttlmAmt>", "<SttlmMtd>INDA</SttlmMtd>"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("no %q in\n%s", want, doc)
		}
	}
}

func TestPacs009Refuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Cycle)
		want   error
	}{
		{"positions not summing to zero", func(c *Cycle) { c.Positions[1].Net++ }, ErrUnbalanced},
		{"obligations netting elsewhere", func(c *Cycle) {
			c.Obligations[0].Amount += 100
			c.Obligations[3].Amount -= 100 // A still -1600, but B and C differ
		}, ErrObligations},
		{"an obligation to an unknown provider", func(c *Cycle) { c.Obligations[0].To = "nobody" }, ErrObligations},
		{"a position beyond 18 digits", func(c *Cycle) {
			c.Positions[0].Net, c.Positions[1].Net, c.Positions[2].Net = -2*MaxMinor, MaxMinor, MaxMinor
			c.Obligations = nil
		}, ErrAmountTooLarge},
		{"a total beyond 18 digits", func(c *Cycle) {
			c.Positions[0].Net, c.Positions[1].Net, c.Positions[2].Net = -MaxMinor, MaxMinor-1, 1
			c.Obligations = []Obligation{{"PRVADEFF", "5299000PROVIDERB0042", MaxMinor - 1}, {"PRVADEFF", "provider-c", 1}}
		}, ErrAmountTooLarge},
		{"positions whose sum overflows", func(c *Cycle) {
			c.Positions[0].Net, c.Positions[1].Net, c.Positions[2].Net = MaxMinor, MaxMinor, MaxMinor
		}, ErrUnbalanced},
		{"a currency of more than three letters", func(c *Cycle) { c.Currency = "XCOMM" }, ErrCurrency},
		{"a currency with 8 decimals", func(c *Cycle) { c.Currency = "SAT" }, ErrCurrency},
		{"an unknown currency", func(c *Cycle) { c.Currency = "ZZZ" }, ErrCurrency},
		{"a cycle ID too long", func(c *Cycle) { c.ID = strings.Repeat("x", MaxCycleID+1) }, ErrField},
		{"an agent ID too long", func(c *Cycle) { c.Scheme.ID = strings.Repeat("x", 36) }, ErrField},
		{"a control character", func(c *Cycle) { c.Scheme.Name = "a\x00b" }, ErrField},
		{"a provider twice", func(c *Cycle) { c.Positions[2].Provider.ID = "PRVADEFF" }, ErrField},
		{"the settlement agent as a provider", func(c *Cycle) { c.SettlementAgent.ID = "provider-c" }, ErrField},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := offpay.RegisterCurrency(offpay.Currency{Code: "XCOMM", Exponent: 2}); err != nil {
				t.Fatal(err)
			}
			if err := offpay.RegisterCurrency(offpay.Currency{Code: "SAT", Exponent: 8}); err != nil {
				t.Fatal(err)
			}
			c := threeProviders()
			tc.change(c)
			doc, err := SettlementPacs009(c)
			if !errors.Is(err, tc.want) || doc != nil {
				t.Fatalf("got %v (%d bytes), want %v", err, len(doc), tc.want)
			}
			if offpay.ErrorCode(err) != offpay.EINVALID {
				t.Errorf("code %q, want invalid", offpay.ErrorCode(err))
			}
		})
	}
}

func TestUnbalancedErrorSays(t *testing.T) {
	c := threeProviders()
	c.Positions[0].Net -= 5
	_, err := SettlementPacs009(c)
	var ue *UnbalancedError
	if !errors.As(err, &ue) || ue.Sum != -5 || ue.Cycle != c.ID {
		t.Fatalf("got %#v, want an *UnbalancedError summing to -5", err)
	}
}

func TestNothingToSettle(t *testing.T) {
	c := threeProviders()
	for i := range c.Positions {
		c.Positions[i].Net = 0
	}
	c.Obligations = []Obligation{{"PRVADEFF", "provider-c", 5}, {"provider-c", "PRVADEFF", 5}}
	if _, err := SettlementPacs009(c); !errors.Is(err, ErrNothingToSettle) {
		t.Fatalf("got %v", err)
	}
}

// The largest amounts the schemas carry, in currencies of 0, 2 and 3
// decimals, go through and validate.
func TestPacs009Extremes(t *testing.T) {
	for _, cur := range []string{"JPY", "EUR", "KWD"} {
		c := threeProviders()
		c.Currency = cur
		half := MaxMinor / 2
		c.Positions[0].Net, c.Positions[1].Net, c.Positions[2].Net = -half, half-1, 1
		c.Obligations = []Obligation{{"PRVADEFF", "5299000PROVIDERB0042", half - 1}, {"PRVADEFF", "provider-c", 1}}
		doc, err := SettlementPacs009(c)
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, doc)
		net, _ := readPacs009(t, doc, cur)
		if net["PRVADEFF"] != -half || net["provider-c"] != 1 {
			t.Errorf("%s: %v", cur, net)
		}
	}
}
