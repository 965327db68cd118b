package apdu

import (
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// The data fields of the proprietary commands (spec/card/CARD.md section 4): CBOR
// arrays in field order. Protocol messages travel as byte strings holding
// their canonical encoding, which the card decodes with protocol.Unmarshal.

// EnrolArgs is ENROL's data.
type EnrolArgs struct {
	_       struct{} `cbor:",toarray"`
	Account string
	Now     uint64
}

// InstallArgs is INSTALL's data.
type InstallArgs struct {
	_       struct{} `cbor:",toarray"`
	Cert    []byte
	Roots   [][]byte
	Issuers [][]byte
	RevList []byte
}

// MessageArgs is the data of the commands taking one message: APPLY LOAD,
// APPLY SYNC RESULT, and (with Now) RECEIVE and CONFIRM RECEIPT.
type MessageArgs struct {
	_   struct{} `cbor:",toarray"`
	Msg []byte
	Now uint64
}

// ReserveArgs is RESERVE's data.
type ReserveArgs struct {
	_      struct{} `cbor:",toarray"`
	Amount uint64
	ID     protocol.Nonce
	Now    uint64
}

// RequestArgs is the data of NEW REQUEST and STANDING REQUEST.
type RequestArgs struct {
	_          struct{} `cbor:",toarray"`
	Amount     uint64
	Name       string
	Expiry     uint64
	ChannelKey []byte
	Pairing    []byte
	Address    []byte
	Now        uint64
}

// Params returns the se.RequestParams a RequestArgs carries.
func (a RequestArgs) Params() se.RequestParams {
	return se.RequestParams{Amount: a.Amount, Name: a.Name, Expiry: a.Expiry, ChannelKey: a.ChannelKey, Pairing: a.Pairing, Address: a.Address}
}

// RequestArgsOf is the RequestArgs of p at now.
func RequestArgsOf(p se.RequestParams, now uint64) RequestArgs {
	return RequestArgs{Amount: p.Amount, Name: p.Name, Expiry: p.Expiry, ChannelKey: p.ChannelKey, Pairing: p.Pairing, Address: p.Address, Now: now}
}

// PayArgs is the data of PAY and PAY ONLINE.
type PayArgs struct {
	_       struct{} `cbor:",toarray"`
	Request []byte
	Amount  uint64
	Now     uint64
}

// RefundArgs is REFUND's data.
type RefundArgs struct {
	_      struct{} `cbor:",toarray"`
	Sale   protocol.Hash
	Amount uint64
	Now    uint64
}

// AmountArgs is REDEEM's data.
type AmountArgs struct {
	_      struct{} `cbor:",toarray"`
	Amount uint64
	Now    uint64
}

// SinceArgs is the data of SYNC UPLOAD and LOG (Now unused by LOG: 0).
type SinceArgs struct {
	_     struct{} `cbor:",toarray"`
	Since uint64
	Now   uint64
}

// NowArgs is GET STATUS's data.
type NowArgs struct {
	_   struct{} `cbor:",toarray"`
	Now uint64
}

// DataArgs is the data of SEAL DATA and OPEN DATA.
type DataArgs struct {
	_     struct{} `cbor:",toarray"`
	Label string
	Data  []byte
}

// PendingItem is one element of PENDING's answer.
type PendingItem struct {
	_       struct{} `cbor:",toarray"`
	ID      protocol.Hash
	Payee   protocol.KeyID
	Amount  uint64
	Counter uint64
}

// SaleItem is one element of SALES's answer.
type SaleItem struct {
	_        struct{} `cbor:",toarray"`
	ID       protocol.Hash
	Payer    protocol.KeyID
	Amount   uint64
	Time     uint64
	Until    uint64
	Refunded uint64
	RefundID protocol.Hash
}

// UnlockArgs is RESET RETRY COUNTER's data: the unlock code as typed and
// the new PIN (a CBOR array, as their lengths vary).
type UnlockArgs struct {
	_    struct{} `cbor:",toarray"`
	Code string
	PIN  string
}
