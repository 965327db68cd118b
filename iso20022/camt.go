package iso20022

import (
	"fmt"
	"strconv"
	"time"

	"github.com/offpay/offpay"
)

// Entry statuses (ExternalEntryStatus1Code).
const (
	// StatusBooked: the entry moved the account's balance.
	StatusBooked = "BOOK"
	// StatusInfo: told for information, no booking on the account (a
	// payment whose value moved by another entry, or stays in a purse).
	StatusInfo = "INFO"
	// StatusPending: not booked yet.
	StatusPending = "PDNG"
)

// Issuer is the issuer of offpay's proprietary bank transaction codes
// (BkTxCd/Prtry/Issr).
const Issuer = "offpay"

// Entry is one line of a statement or a notification.
type Entry struct {
	Ref         string    `json:"ref,omitempty"`          // NtryRef, up to 35 characters
	Amount      int64     `json:"amount_minor"`           // signed: a credit is positive
	Status      string    `json:"status"`                 // StatusBooked, StatusInfo or StatusPending
	BookingDate time.Time `json:"booking_date"`           // its UTC date; zero: none
	ValueDate   time.Time `json:"value_date"`             // its UTC date; zero: none
	Code        string    `json:"code"`                   // offpay's kind of entry (BkTxCd/Prtry/Cd), 1 to 35 characters
	ServicerRef string    `json:"servicer_ref,omitempty"` // AcctSvcrRef
	Info        string    `json:"info,omitempty"`         // AddtlNtryInf, up to 500 characters
	// Transactions are the payments the entry is made of (NtryDtls/TxDtls).
	Transactions []Transaction `json:"transactions,omitempty"`
}

// Transaction is one payment within an entry.
type Transaction struct {
	EndToEndID string `json:"end_to_end_id,omitempty"` // Refs/EndToEndId, up to 35 characters
	// Amount, when set, is the payment's own amount: not negative, in the
	// entry's direction (its CdtDbtInd is the entry's). When every
	// transaction of an entry has one, they sum to the entry's amount.
	Amount *int64 `json:"amount_minor,omitempty"`
	// Info is AddtlTxInf (up to 500 characters): offpay's payment ID (64
	// hex digits, longer than any ISO reference) goes here.
	Info string `json:"info,omitempty"`
}

// Statement is an account's statement for a period: camt.053.
type Statement struct {
	MsgID       string    `json:"msg_id"`  // GrpHdr/MsgId, up to 35 characters
	ID          string    `json:"id"`      // Stmt/Id, up to 35 characters
	Account     string    `json:"account"` // Acct/Id/Othr/Id, up to 34 characters
	Currency    string    `json:"currency"`
	Created     time.Time `json:"created"`       // CreDtTm; the closing balance's date
	OpeningDate time.Time `json:"opening_date"`  // the opening balance's date
	Opening     int64     `json:"opening_minor"` // signed: negative is a debit balance
	Entries     []Entry   `json:"entries"`
}

// Notification is one debit or credit notification: camt.054.
type Notification struct {
	MsgID    string    `json:"msg_id"`
	ID       string    `json:"id"` // Ntfctn/Id
	Account  string    `json:"account"`
	Currency string    `json:"currency"`
	Created  time.Time `json:"created"`
	// SeqNb, if not zero, numbers the account's notifications
	// (ElctrncSeqNb, 1 to 18 digits).
	SeqNb   int64   `json:"seq_nb,omitempty"`
	Entries []Entry `json:"entries"`
	// Info is AddtlNtfctnInf, up to 500 characters.
	Info string `json:"info,omitempty"`
}

// Closing returns the statement's closing balance: the opening balance
// plus its booked entries (ErrOverflow past int64).
func (s *Statement) Closing() (int64, error) {
	bal := s.Opening
	for _, e := range s.Entries {
		if e.Status != StatusBooked {
			continue
		}
		var err error
		if bal, err = offpay.AddMinor(bal, e.Amount); err != nil {
			return 0, wrapf(ErrOverflow, "statement %q", clip(s.ID))
		}
	}
	return bal, nil
}

// Camt053 returns s as a camt.053.001.08 BankToCustomerStatement: the
// opening (OPBD) and closing (CLBD) booked balances, then the entries.
func Camt053(s *Statement) ([]byte, error) {
	cur, err := Currency(s.Currency)
	if err != nil {
		return nil, err
	}
	rep, err := report(s.MsgID, s.ID, s.Account, s.Created, cur, s.Entries)
	if err != nil {
		return nil, err
	}
	closing, err := s.Closing()
	if err != nil {
		return nil, err
	}
	if s.OpeningDate.IsZero() {
		return nil, wrapf(ErrField, "statement %q: no opening date", clip(s.ID))
	}
	for _, b := range []struct {
		code string
		bal  int64
		at   time.Time
	}{{"OPBD", s.Opening, s.OpeningDate}, {"CLBD", closing, s.Created}} {
		amt, ind, err := signed(b.bal, cur)
		if err != nil {
			return nil, err
		}
		rep.Bal = append(rep.Bal, cashBalance{Tp: balanceType{Cd: b.code}, Amt: amt, CdtDbtInd: ind, Dt: dateChoice{Dt: date(b.at)}})
	}
	return marshal(camt053Document{Xmlns: NamespaceCamt053, Msg: bkToCstmrStmtXML{
		GrpHdr: groupHeader81{MsgId: s.MsgID, CreDtTm: dateTime(s.Created)}, Stmt: []accountReport{rep}}})
}

// Camt054 returns n as a camt.054.001.08 BankToCustomerDebitCreditNotification.
func Camt054(n *Notification) ([]byte, error) {
	cur, err := Currency(n.Currency)
	if err != nil {
		return nil, err
	}
	if len(n.Entries) == 0 {
		return nil, wrapf(ErrField, "notification %q: no entry", clip(n.ID))
	}
	rep, err := report(n.MsgID, n.ID, n.Account, n.Created, cur, n.Entries)
	if err != nil {
		return nil, err
	}
	if n.SeqNb < 0 || n.SeqNb > MaxMinor {
		return nil, wrapf(ErrField, "notification %q: sequence number %d", clip(n.ID), n.SeqNb)
	}
	if n.Info != "" {
		if err := text("notification info", n.Info, 500); err != nil {
			return nil, err
		}
	}
	rep.ElctrncSeqNb, rep.AddtlNtfctnInf = n.SeqNb, n.Info
	return marshal(camt054Document{Xmlns: NamespaceCamt054, Msg: bkToCstmrNtfctnXML{
		GrpHdr: groupHeader81{MsgId: n.MsgID, CreDtTm: dateTime(n.Created)}, Ntfctn: []accountReport{rep}}})
}

// report is the part camt.053's Stmt and camt.054's Ntfctn share.
func report(msgID, id, account string, created time.Time, cur offpay.Currency, entries []Entry) (accountReport, error) {
	if err := text("message id", msgID, 35); err != nil {
		return accountReport{}, err
	}
	if err := text("report id", id, 35); err != nil {
		return accountReport{}, err
	}
	if err := text("account", account, 34); err != nil {
		return accountReport{}, err
	}
	if created.IsZero() {
		return accountReport{}, wrapf(ErrField, "report %q: no creation time", clip(id))
	}
	rep := accountReport{Id: id, CreDtTm: dateTime(created),
		Acct: cashAccount39{Id: accountIDChoice{Othr: genericID{Id: account}}, Ccy: cur.Code}}
	for i := range entries {
		x, err := entry(&entries[i], cur)
		if err != nil {
			return accountReport{}, fmt.Errorf("entry %d: %w", i+1, err)
		}
		rep.Ntry = append(rep.Ntry, x)
	}
	return rep, nil
}

func entry(e *Entry, cur offpay.Currency) (reportEntry, error) {
	amt, ind, err := signed(e.Amount, cur)
	if err != nil {
		return reportEntry{}, err
	}
	switch e.Status {
	case StatusBooked, StatusInfo, StatusPending:
	default:
		return reportEntry{}, wrapf(ErrField, "status %q", clip(e.Status))
	}
	if err := text("entry code", e.Code, 35); err != nil {
		return reportEntry{}, err
	}
	for _, f := range []struct {
		what, s string
		max     int
	}{{"entry ref", e.Ref, 35}, {"servicer ref", e.ServicerRef, 35}, {"entry info", e.Info, 500}} {
		if f.s != "" {
			if err := text(f.what, f.s, f.max); err != nil {
				return reportEntry{}, err
			}
		}
	}
	x := reportEntry{NtryRef: e.Ref, Amt: amt, CdtDbtInd: ind, Sts: e.Status, AcctSvcrRef: e.ServicerRef,
		BkTxCd: bkTxCd{Cd: e.Code, Issr: Issuer}, AddtlInf: e.Info}
	if !e.BookingDate.IsZero() {
		x.BookgDt = &dateChoice{Dt: date(e.BookingDate)}
	}
	if !e.ValueDate.IsZero() {
		x.ValDt = &dateChoice{Dt: date(e.ValueDate)}
	}
	if len(e.Transactions) > 0 {
		x.NtryDtls = &entryDtls{}
	}
	var sum int64
	all := true
	for i, t := range e.Transactions {
		tx := entryTransaction{AddtlTxInf: t.Info}
		if t.EndToEndID != "" {
			if err := text("end-to-end id", t.EndToEndID, 35); err != nil {
				return reportEntry{}, err
			}
			tx.Refs = &txRefs{EndToEndId: t.EndToEndID}
		}
		if t.Info != "" {
			if err := text("transaction info", t.Info, 500); err != nil {
				return reportEntry{}, err
			}
		}
		if t.Amount == nil {
			all = false
		} else {
			v, err := decimal(*t.Amount, cur)
			if err != nil {
				return reportEntry{}, fmt.Errorf("transaction %d: %w", i+1, err)
			}
			if sum, err = offpay.AddMinor(sum, *t.Amount); err != nil {
				return reportEntry{}, wrapf(ErrOverflow, "transactions of entry %q", clip(e.Ref))
			}
			tx.Amt, tx.CdtDbtInd = &amountXML{Value: v, Ccy: cur.Code}, ind
		}
		x.NtryDtls.TxDtls = append(x.NtryDtls.TxDtls, tx)
	}
	if len(e.Transactions) > 0 && all && sum != max(e.Amount, -e.Amount) {
		return reportEntry{}, wrapf(ErrField, "entry %q of %d: its transactions sum to %d", clip(e.Ref), e.Amount, sum)
	}
	return x, nil
}

// signed returns a signed amount as an ISO amount and its CdtDbtInd:
// CRDT for zero and above, DBIT below.
func signed(minor int64, cur offpay.Currency) (amountXML, string, error) {
	ind := "CRDT"
	if minor < 0 {
		if minor < -MaxMinor {
			return amountXML{}, "", wrapf(ErrAmountTooLarge, "%d %s", minor, cur.Code)
		}
		minor, ind = -minor, "DBIT"
	}
	v, err := decimal(minor, cur)
	if err != nil {
		return amountXML{}, "", err
	}
	return amountXML{Value: v, Ccy: cur.Code}, ind, nil
}

// StatementOfCycle returns provider's statement of cycle c: its clearing
// account at the scheme opens at zero, each obligation it is party to is a
// booked entry (a credit when it is owed, a debit when it owes), and so the
// closing balance is its net position, which the cycle's pacs.009 settles.
// The statement's ID is the cycle's, its message ID the cycle's with "/S"
// and the provider's number in the cycle (1, 2, ...).
func StatementOfCycle(c *Cycle, provider string) (*Statement, error) {
	if _, err := c.check(); err != nil {
		return nil, err
	}
	idx := -1
	for i, p := range c.Positions {
		if p.Provider.ID == provider {
			idx = i
		}
	}
	if idx < 0 {
		return nil, wrapf(ErrField, "provider %q is not in cycle %q", clip(provider), c.ID)
	}
	s := &Statement{MsgID: c.ID + "/S" + strconv.Itoa(idx+1), ID: c.ID, Account: provider, Currency: c.Currency,
		Created: c.Time, OpeningDate: c.Time}
	for i, o := range c.Obligations {
		e := Entry{Ref: strconv.Itoa(i + 1), Status: StatusBooked, BookingDate: c.Time, ValueDate: c.Time, Code: "obligation"}
		switch provider {
		case o.To:
			e.Amount, e.Info = o.Amount, "owed by "+o.From
		case o.From:
			e.Amount, e.Info = -o.Amount, "owed to "+o.To
		default:
			continue
		}
		s.Entries = append(s.Entries, e)
	}
	return s, nil
}
