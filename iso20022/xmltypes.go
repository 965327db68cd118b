package iso20022

import "encoding/xml"

// The XML of the three messages: each type is named after the ISO 20022
// component it writes and holds its elements in the schema's order, only
// those offpay fills. Optional elements are pointers or omitempty; a choice
// is a struct of pointers of which exactly one is set.

// Namespaces of the message versions written.
const (
	NamespacePacs009 = "urn:iso:std:iso:20022:tech:xsd:pacs.009.001.09"
	NamespaceCamt053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
	NamespaceCamt054 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
)

type amountXML struct {
	Value string `xml:",chardata"`
	Ccy   string `xml:"Ccy,attr"`
}

// --- pacs.009.001.09 ---

type pacs009Document struct {
	XMLName xml.Name    `xml:"Document"`
	Xmlns   string      `xml:"xmlns,attr"`
	Msg     ficdtTrfXML `xml:"FICdtTrf"`
}

type ficdtTrfXML struct {
	GrpHdr      groupHeader93                 `xml:"GrpHdr"`
	CdtTrfTxInf []creditTransferTransaction44 `xml:"CdtTrfTxInf"`
}

type groupHeader93 struct {
	MsgId             string                `xml:"MsgId"`
	CreDtTm           string                `xml:"CreDtTm"`
	NbOfTxs           string                `xml:"NbOfTxs"`
	TtlIntrBkSttlmAmt amountXML             `xml:"TtlIntrBkSttlmAmt"`
	IntrBkSttlmDt     string                `xml:"IntrBkSttlmDt"`
	SttlmInf          settlementInstruction `xml:"SttlmInf"`
	InstgAgt          *agentXML             `xml:"InstgAgt,omitempty"`
	InstdAgt          *agentXML             `xml:"InstdAgt,omitempty"`
}

type settlementInstruction struct {
	SttlmMtd string `xml:"SttlmMtd"`
}

// agentXML is BranchAndFinancialInstitutionIdentification6.
type agentXML struct {
	FinInstnId finInstnIdXML `xml:"FinInstnId"`
}

// finInstnIdXML is FinancialInstitutionIdentification18: a BIC, an LEI or
// another identifier (Othr/Id), and a name.
type finInstnIdXML struct {
	BICFI string     `xml:"BICFI,omitempty"`
	LEI   string     `xml:"LEI,omitempty"`
	Nm    string     `xml:"Nm,omitempty"`
	Othr  *genericID `xml:"Othr,omitempty"`
}

type genericID struct {
	Id string `xml:"Id"`
}

type creditTransferTransaction44 struct {
	PmtId          paymentID13 `xml:"PmtId"`
	IntrBkSttlmAmt amountXML   `xml:"IntrBkSttlmAmt"`
	Dbtr           agentXML    `xml:"Dbtr"`
	Cdtr           agentXML    `xml:"Cdtr"`
	RmtInf         *rmtInf     `xml:"RmtInf,omitempty"`
}

type paymentID13 struct {
	InstrId    string `xml:"InstrId"`
	EndToEndId string `xml:"EndToEndId"`
	TxId       string `xml:"TxId,omitempty"`
}

type rmtInf struct {
	Ustrd []string `xml:"Ustrd"`
}

// --- camt.053.001.08 and camt.054.001.08 ---

type camt053Document struct {
	XMLName xml.Name         `xml:"Document"`
	Xmlns   string           `xml:"xmlns,attr"`
	Msg     bkToCstmrStmtXML `xml:"BkToCstmrStmt"`
}

type bkToCstmrStmtXML struct {
	GrpHdr groupHeader81   `xml:"GrpHdr"`
	Stmt   []accountReport `xml:"Stmt"`
}

type camt054Document struct {
	XMLName xml.Name           `xml:"Document"`
	Xmlns   string             `xml:"xmlns,attr"`
	Msg     bkToCstmrNtfctnXML `xml:"BkToCstmrDbtCdtNtfctn"`
}

type bkToCstmrNtfctnXML struct {
	GrpHdr groupHeader81   `xml:"GrpHdr"`
	Ntfctn []accountReport `xml:"Ntfctn"`
}

type groupHeader81 struct {
	MsgId   string `xml:"MsgId"`
	CreDtTm string `xml:"CreDtTm"`
}

// accountReport is AccountStatement9 (with balances) and
// AccountNotification17 (without): they share these elements in this
// order.
type accountReport struct {
	Id           string        `xml:"Id"`
	ElctrncSeqNb int64         `xml:"ElctrncSeqNb,omitempty"`
	CreDtTm      string        `xml:"CreDtTm"`
	Acct         cashAccount39 `xml:"Acct"`
	Bal          []cashBalance `xml:"Bal,omitempty"`
	Ntry         []reportEntry `xml:"Ntry,omitempty"`
	// AddtlNtfctnInf is camt.054's only (camt.053's is AddtlStmtInf).
	AddtlNtfctnInf string `xml:"AddtlNtfctnInf,omitempty"`
}

type cashAccount39 struct {
	Id  accountIDChoice `xml:"Id"`
	Ccy string          `xml:"Ccy"`
}

type accountIDChoice struct {
	Othr genericID `xml:"Othr"`
}

// cashBalance is CashBalance8.
type cashBalance struct {
	Tp        balanceType `xml:"Tp"`
	Amt       amountXML   `xml:"Amt"`
	CdtDbtInd string      `xml:"CdtDbtInd"`
	Dt        dateChoice  `xml:"Dt"`
}

type balanceType struct {
	Cd string `xml:"CdOrPrtry>Cd"`
}

// dateChoice is DateAndDateTime2Choice with its Dt branch.
type dateChoice struct {
	Dt string `xml:"Dt"`
}

// reportEntry is ReportEntry10.
type reportEntry struct {
	NtryRef     string      `xml:"NtryRef,omitempty"`
	Amt         amountXML   `xml:"Amt"`
	CdtDbtInd   string      `xml:"CdtDbtInd"`
	Sts         string      `xml:"Sts>Cd"`
	BookgDt     *dateChoice `xml:"BookgDt,omitempty"`
	ValDt       *dateChoice `xml:"ValDt,omitempty"`
	AcctSvcrRef string      `xml:"AcctSvcrRef,omitempty"`
	BkTxCd      bkTxCd      `xml:"BkTxCd"`
	NtryDtls    *entryDtls  `xml:"NtryDtls,omitempty"`
	AddtlInf    string      `xml:"AddtlNtryInf,omitempty"`
}

// bkTxCd is BankTransactionCodeStructure4 with its proprietary code.
type bkTxCd struct {
	Cd   string `xml:"Prtry>Cd"`
	Issr string `xml:"Prtry>Issr"`
}

type entryDtls struct {
	TxDtls []entryTransaction `xml:"TxDtls"`
}

// entryTransaction is EntryTransaction10.
type entryTransaction struct {
	Refs       *txRefs    `xml:"Refs,omitempty"`
	Amt        *amountXML `xml:"Amt,omitempty"`
	CdtDbtInd  string     `xml:"CdtDbtInd,omitempty"`
	RmtInf     *rmtInf    `xml:"RmtInf,omitempty"`
	AddtlTxInf string     `xml:"AddtlTxInf,omitempty"`
}

// txRefs is TransactionReferences6.
type txRefs struct {
	EndToEndId string `xml:"EndToEndId,omitempty"`
	TxId       string `xml:"TxId,omitempty"`
}
