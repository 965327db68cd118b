// Package iso20022 writes offpay's clearing results, statements and bank
// notifications as ISO 20022 XML messages: pacs.009.001.09 (the settlement
// instructions of a clearing cycle), camt.053.001.08 (a provider's or an
// account's statement) and camt.054.001.08 (a debit or credit notification).
//
// Its inputs are plain Go types of its own (Cycle, Statement, Notification),
// independent of the ledger and of any federation code, with money as int64
// minor units and a currency code. Amounts become ISO decimal amounts by
// exact integer arithmetic, with the exponent of offpay's currency table;
// an amount the schemas cannot carry (more than 18 digits, more than 5
// decimals, a currency code other than three capital letters) is refused
// with a typed error, never rounded.
//
// The messages are built with encoding/xml on structs that follow the ISO
// 20022 schemas element for element (xmltypes.go). github.com/moov-io/iso20022
// v0.2.1, the only ISO 20022 Go module the proxy serves, was tried and is not
// used: its amounts are float64 (written as 1.2345678901234568e+16), and its
// choice elements are written with every branch (<IBAN></IBAN> beside
// <Othr>), so its output fails the schemas it ships. The schemas themselves
// come from that module (testdata/xsd/SOURCE.md), and every message this
// package writes is validated against them with xmllint in the tests.
//
// spec/iso20022.md states the mapping; testdata/vectors holds inputs and the
// exact XML expected from them.
package iso20022
