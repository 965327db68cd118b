package iso20022

import (
	"encoding/xml"
	"errors"
	"strconv"

	"github.com/offpay/offpay"
)

// ErrNothingToSettle: a cycle whose every net position is zero needs no
// settlement instruction (pacs.009 has at least one transaction).
var ErrNothingToSettle = errors.New("iso20022: every net position is zero: nothing to settle")

// SettlementPacs009 returns the settlement instructions of cycle c as one
// pacs.009.001.09 message from the scheme (InstgAgt) to the settlement
// agent (InstdAgt), settled in the settlement agent's books (SttlmMtd
// INDA).
//
// It holds one credit transfer per provider whose net position is not
// zero, not one per pair of providers: each net debtor pays its net debit
// to the settlement agent, and the settlement agent pays each net creditor
// its net credit. That is multilateral netting: at most one transfer per
// provider instead of one per pair (n-1 instead of n(n-1)/2 for n
// providers), and no provider needs liquidity beyond its own net position.
// The transfers are in one message because they settle together or not at
// all: only the whole set sums to zero, so a settlement agent that booked
// some and refused others would leave it unbalanced. The debits come first.
// TtlIntrBkSttlmAmt is the sum of all the transfers (twice the sum of the
// net debits), NbOfTxs their number: the control totals of the batch.
//
// It refuses a cycle whose positions do not sum to zero (*UnbalancedError),
// whose obligations do not net to its positions (ErrObligations), an amount
// or a total of more than 18 digits (ErrAmountTooLarge), a currency ISO
// cannot name (ErrCurrency), and identifiers that do not fit (ErrField).
func SettlementPacs009(c *Cycle) ([]byte, error) {
	cur, err := c.check()
	if err != nil {
		return nil, err
	}
	sa, _ := agent(c.SettlementAgent)
	scheme, _ := agent(c.Scheme)
	var txs []creditTransferTransaction44
	var total int64
	add := func(p Position, amount int64, dbtr, cdtr agentXML) error {
		v, err := decimal(amount, cur)
		if err != nil {
			return err
		}
		if total, err = offpay.AddMinor(total, amount); err != nil || total > MaxMinor {
			return wrapf(ErrAmountTooLarge, "cycle %q: the total of the transfers", c.ID)
		}
		n := strconv.Itoa(len(txs) + 1)
		txs = append(txs, creditTransferTransaction44{
			PmtId:          paymentID13{InstrId: n, EndToEndId: c.ID},
			IntrBkSttlmAmt: amountXML{Value: v, Ccy: cur.Code},
			Dbtr:           dbtr, Cdtr: cdtr,
			RmtInf: &rmtInf{Ustrd: []string{"offpay clearing cycle " + c.ID + ": net position of " + p.Provider.ID}},
		})
		return nil
	}
	for _, p := range c.Positions {
		if p.Net < 0 {
			pa, _ := agent(p.Provider)
			if err := add(p, -p.Net, pa, sa); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range c.Positions {
		if p.Net > 0 {
			pa, _ := agent(p.Provider)
			if err := add(p, p.Net, sa, pa); err != nil {
				return nil, err
			}
		}
	}
	if len(txs) == 0 {
		return nil, ErrNothingToSettle
	}
	tv, _ := decimal(total, cur)
	doc := pacs009Document{Xmlns: NamespacePacs009, Msg: ficdtTrfXML{
		GrpHdr: groupHeader93{
			MsgId: c.ID, CreDtTm: dateTime(c.Time), NbOfTxs: strconv.Itoa(len(txs)),
			TtlIntrBkSttlmAmt: amountXML{Value: tv, Ccy: cur.Code}, IntrBkSttlmDt: date(c.Time),
			SttlmInf: settlementInstruction{SttlmMtd: "INDA"}, InstgAgt: &scheme, InstdAgt: &sa,
		},
		CdtTrfTxInf: txs,
	}}
	return marshal(doc)
}

// marshal writes doc with the XML declaration, indented, ending in a
// newline: the exact bytes of the test vectors.
func marshal(doc any) ([]byte, error) {
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}
