package wallet

import (
	"context"
	"errors"
	"sort"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// ReceiptPresenter is the optional part of a Ledger that takes back an
// online receipt it signed (POST /v1/online-receipts): restored says it
// had lost the payment and entered it again.
type ReceiptPresenter interface {
	PresentOnlineReceipt(ctx context.Context, rc *protocol.OnlineReceipt) (restored bool, err error)
}

// reentryWindow is how far back a wallet gives receipts to a ledger that
// lost online payments: the claim window, which bounds offline payments'
// recovery too (a backup older than that loses more than this).
const reentryWindow = protocol.ClaimWindow

// reenterOnline runs after each successful sync (best effort: the ledger
// may simply be down again). An online payment lives only in the ledger's
// database and the two wallets' histories; no device log carries it. So a
// ledger restored to a copy older than the payment has lost it, and its
// debit and credit with it. The wallet asks the ledger for the receipt of
// its newest online payment; a ledger that answers that it knows no such
// payment has gone back in time, and the wallet then presents every
// receipt it holds from the last reentryWindow, oldest first. A restored
// copy holds everything committed before it was taken, so the newest
// payment present means every older one is too.
func (w *Wallet) reenterOnline(ctx context.Context) {
	look, ok1 := w.led.(OnlineLedger)
	give, ok2 := w.led.(ReceiptPresenter)
	if !ok1 || !ok2 {
		return
	}
	var rcs []*protocol.OnlineReceipt
	for _, r := range w.h.Records {
		if (r.Kind != KindOnlinePay && r.Kind != KindOnlineReceive) || len(r.Receipt) == 0 || r.Time+reentryWindow < w.clock() {
			continue
		}
		rc := new(protocol.OnlineReceipt)
		if protocol.Unmarshal(r.Receipt, rc) == nil {
			rcs = append(rcs, rc)
		}
	}
	if len(rcs) == 0 {
		return
	}
	sort.SliceStable(rcs, func(i, j int) bool { return rcs[i].Time < rcs[j].Time })
	newest := rcs[len(rcs)-1]
	if _, err := look.OnlineReceipt(ctx, newest.Payee, newest.Nonce); offpay.ErrorCode(err) != offpay.ENOTFOUND {
		return // held (or the ledger cannot say now)
	}
	for _, rc := range rcs {
		restored, err := give.PresentOnlineReceipt(ctx, rc)
		switch {
		case err != nil:
			w.OnlineReentry = errors.Join(w.OnlineReentry, err)
		case restored:
			w.OnlineReentered++
		}
	}
}
