//go:build js && wasm

package main

import (
	"context"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/wallet"
)

// clientLedger adapts the HTTP client to what the wallet needs, as the
// command line's does (cmd/offpay/walletopen.go). In the browser Go's
// net/http sends through fetch.
type clientLedger struct {
	c    *ledgerclient.Client
	code string // the one-time enrolment code
}

func (l clientLedger) Enrol(ctx context.Context, r *protocol.EnrolmentRequest) (*wallet.Enrolment, error) {
	var e *ledger.Enrolment
	var err error
	if l.code != "" {
		e, err = l.c.EnrolWithCode(ctx, r, l.code)
	} else {
		e, err = l.c.Enrol(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	return &wallet.Enrolment{Device: e.Device, Issuer: e.Issuer, Root: e.Root, RevList: e.RevList}, nil
}

func (l clientLedger) Trust(ctx context.Context) (root, issuer *protocol.Certificate, err error) {
	return l.c.Trust(ctx)
}

func (l clientLedger) RevocationList(ctx context.Context) (*protocol.RevocationList, error) {
	return l.c.RevocationList(ctx)
}

func (l clientLedger) Reserve(ctx context.Context, r *protocol.ReserveRequest) (*protocol.Load, error) {
	return l.c.Reserve(ctx, r)
}

func (l clientLedger) Sync(ctx context.Context, u *protocol.SyncUpload) (*protocol.SyncResult, error) {
	return l.c.Sync(ctx, u)
}

func (l clientLedger) Acknowledge(ctx context.Context, res *protocol.SyncResult) (bool, error) {
	return l.c.Acknowledge(ctx, res)
}

// PayOnline and OnlineReceipt make clientLedger a wallet.OnlineLedger
// (README "Online payments").
func (l clientLedger) PayOnline(ctx context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error) {
	return l.c.PayOnline(ctx, p)
}

func (l clientLedger) OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error) {
	return l.c.OnlineReceipt(ctx, payee, nonce)
}

// PresentOnlineReceipt implements wallet.ReceiptPresenter: a ledger that
// lost an online payment in a restore takes it back from the receipt.
func (l clientLedger) PresentOnlineReceipt(ctx context.Context, rc *protocol.OnlineReceipt) (bool, error) {
	return l.c.PresentOnlineReceipt(ctx, rc)
}
