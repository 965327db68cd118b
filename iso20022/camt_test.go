package iso20022

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay"
)

func sampleNotification() *Notification {
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	amt := int64(1250)
	return &Notification{
		MsgID: "shop-1:7", ID: "shop-1:7", Account: "shop-1", Currency: "EUR", Created: at, SeqNb: 7, Info: "account_changed shop-1:7",
		Entries: []Entry{{Ref: "7", Amount: 1250, Status: StatusBooked, BookingDate: at, ValueDate: at, Code: "settle_in",
			ServicerRef: "sync-42", Transactions: []Transaction{{Amount: &amt,
				Info: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}}},
	}
}

// readReport decodes the Stmt or Ntfctn of a camt message.
func readReport(t *testing.T, doc []byte, stmt bool) accountReport {
	t.Helper()
	if stmt {
		var d camt053Document
		if err := xml.Unmarshal(doc, &d); err != nil || len(d.Msg.Stmt) != 1 {
			t.Fatalf("%v, %d statements", err, len(d.Msg.Stmt))
		}
		return d.Msg.Stmt[0]
	}
	var d camt054Document
	if err := xml.Unmarshal(doc, &d); err != nil || len(d.Msg.Ntfctn) != 1 {
		t.Fatalf("%v, %d notifications", err, len(d.Msg.Ntfctn))
	}
	return d.Msg.Ntfctn[0]
}

// value reads a signed amount back.
func value(t *testing.T, a amountXML, ind string) int64 {
	t.Helper()
	v, err := ParseDecimal(a.Value, a.Ccy)
	if err != nil {
		t.Fatal(err)
	}
	switch ind {
	case "CRDT":
		return v
	case "DBIT":
		return -v
	}
	t.Fatalf("CdtDbtInd %q", ind)
	return 0
}

// Each provider's statement of a cycle closes at its net position, and its
// booked entries take the opening balance to the closing one.
func TestStatementOfCycleClosesAtPosition(t *testing.T) {
	c := threeProviders()
	for _, p := range c.Positions {
		s, err := StatementOfCycle(c, p.Provider.ID)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Camt053(s)
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, doc)
		r := readReport(t, doc, true)
		if len(r.Bal) != 2 || r.Bal[0].Tp.Cd != "OPBD" || r.Bal[1].Tp.Cd != "CLBD" {
			t.Fatalf("balances %+v", r.Bal)
		}
		open, closing := value(t, r.Bal[0].Amt, r.Bal[0].CdtDbtInd), value(t, r.Bal[1].Amt, r.Bal[1].CdtDbtInd)
		sum := open
		for _, e := range r.Ntry {
			sum += value(t, e.Amt, e.CdtDbtInd)
		}
		if open != 0 || closing != p.Net || sum != closing {
			t.Errorf("%s: opens %d, closes %d, entries take it to %d; position %d", p.Provider.ID, open, closing, sum, p.Net)
		}
	}
	if _, err := StatementOfCycle(c, "nobody"); !errors.Is(err, ErrField) {
		t.Errorf("a provider not in the cycle: %v", err)
	}
}

// Entries for information do not move the balance; a debit balance is
// written as DBIT with its absolute value.
func TestCamt053Balances(t *testing.T) {
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	s := &Statement{MsgID: "m1", ID: "s1", Account: "acct", Currency: "KWD", Created: at, OpeningDate: at.Add(-24 * time.Hour),
		Opening: -5, Entries: []Entry{
			{Amount: 1, Status: StatusBooked, Code: "load"},
			{Amount: -1000, Status: StatusInfo, Code: "payment"},
			{Amount: 2, Status: StatusPending, Code: "load"},
		}}
	doc, err := Camt053(s)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, doc)
	r := readReport(t, doc, true)
	if got := value(t, r.Bal[0].Amt, r.Bal[0].CdtDbtInd); got != -5 || r.Bal[0].Amt.Value != "0.005" {
		t.Errorf("opening %d (%s)", got, r.Bal[0].Amt.Value)
	}
	if got := value(t, r.Bal[1].Amt, r.Bal[1].CdtDbtInd); got != -4 || r.Bal[1].CdtDbtInd != "DBIT" {
		t.Errorf("closing %d %s, want -4 DBIT", got, r.Bal[1].CdtDbtInd)
	}
	if r.Ntry[1].Sts != "INFO" || r.Ntry[2].Sts != "PDNG" {
		t.Errorf("statuses %s %s", r.Ntry[1].Sts, r.Ntry[2].Sts)
	}
}

func TestCamt054(t *testing.T) {
	n := sampleNotification()
	doc, err := Camt054(n)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, doc)
	r := readReport(t, doc, false)
	e := r.Ntry[0]
	if value(t, e.Amt, e.CdtDbtInd) != 1250 || e.BkTxCd.Cd != "settle_in" || e.BkTxCd.Issr != Issuer || r.Acct.Id.Othr.Id != "shop-1" {
		t.Errorf("entry %+v", e)
	}
	if r.ElctrncSeqNb != 7 || r.AddtlNtfctnInf != n.Info {
		t.Errorf("sequence %d, info %q", r.ElctrncSeqNb, r.AddtlNtfctnInf)
	}
	tx := e.NtryDtls.TxDtls[0]
	if tx.AddtlTxInf != n.Entries[0].Transactions[0].Info || value(t, *tx.Amt, tx.CdtDbtInd) != 1250 {
		t.Errorf("transaction %+v", tx)
	}
	// A debit: the transaction's amount in the entry's direction.
	n.Entries[0].Amount = -1250
	if doc, err = Camt054(n); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, doc)
	if strings.Count(string(doc), "<CdtDbtInd>DBIT</CdtDbtInd>") != 2 || strings.Contains(string(doc), "CRDT") {
		t.Errorf("no debit in\n%s", doc)
	}
}

func TestCamtRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(n *Notification)
		want   error
	}{
		{"no entry", func(n *Notification) { n.Entries = nil }, ErrField},
		{"an account of 35 characters", func(n *Notification) { n.Account = strings.Repeat("a", 35) }, ErrField},
		{"an unknown status", func(n *Notification) { n.Entries[0].Status = "DONE" }, ErrField},
		{"no code", func(n *Notification) { n.Entries[0].Code = "" }, ErrField},
		{"an amount beyond 18 digits", func(n *Notification) { n.Entries[0].Amount = -MaxMinor - 1 }, ErrAmountTooLarge},
		{"a transaction amount beyond 18 digits", func(n *Notification) { *n.Entries[0].Transactions[0].Amount = MaxMinor + 1 }, ErrAmountTooLarge},
		{"a negative transaction amount", func(n *Notification) { *n.Entries[0].Transactions[0].Amount = -1250 }, offpay.ErrNegative},
		{"transactions not summing to the entry", func(n *Notification) { *n.Entries[0].Transactions[0].Amount = 1249 }, ErrField},
		{"a negative sequence number", func(n *Notification) { n.SeqNb = -1 }, ErrField},
		{"no creation time", func(n *Notification) { n.Created = time.Time{} }, ErrField},
		{"info of 501 characters", func(n *Notification) { n.Entries[0].Transactions[0].Info = strings.Repeat("i", 501) }, ErrField},
	} {
		n := sampleNotification()
		tc.change(n)
		if doc, err := Camt054(n); !errors.Is(err, tc.want) || doc != nil {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	s := &Statement{MsgID: "m", ID: "s", Account: "a", Currency: "EUR", Created: time.Now(), OpeningDate: time.Now(),
		Opening: 1<<63 - 1, Entries: []Entry{{Amount: 1, Status: StatusBooked, Code: "x"}}}
	if _, err := Camt053(s); !errors.Is(err, ErrOverflow) {
		t.Errorf("a closing balance past int64: %v", err)
	}
}
