package wallet

import (
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Status is where the user's money stands.
type Status struct {
	Currency     string
	Available    uint64 // what the purse can pay now
	Pending      uint64 // paid, receipt not yet back: already out of Available
	PendingCount int
	// What is left of each offline limit before the next sync.
	PaymentsLeft uint64
	ValueLeft    uint64
	PerPayment   uint64
	HoldingLeft  uint64
	LastSync     time.Time
	SyncBy       time.Time // the purse stops paying at this time without a sync
	CanPay       bool      // now is before SyncBy, and the device is not receive-only
	ReceiveOnly  bool      // a merchant device: it receives, the ledger sweeps its takings
	Swept        uint64    // cumulative value swept from the purse to the account
	// The installed certificate's offline limits and end of validity. A
	// sync may renew the certificate (new limits, new validity): they
	// show here at once.
	Limits     protocol.Limits
	CertExpiry time.Time
	SE         se.Status
}

// Status reports the purse and its limits at the wallet's clock.
func (w *Wallet) Status() (Status, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, err := w.se.Status(w.clock())
	if err != nil {
		return Status{}, err
	}
	return Status{
		Currency: st.Currency, Available: st.Balance, Pending: st.PendingValue, PendingCount: st.PendingCount,
		PaymentsLeft: st.CountLeft, ValueLeft: st.ValueLeft, PerPayment: st.Limits.PerPayment,
		HoldingLeft: st.HoldingLeft, LastSync: time.Unix(int64(st.LastSync), 0).UTC(),
		SyncBy: time.Unix(int64(st.Deadline), 0).UTC(), CanPay: st.Enrolled && st.Clock < st.Deadline && !st.ReceiveOnly,
		ReceiveOnly: st.ReceiveOnly, Swept: st.Swept, Limits: st.Limits,
		CertExpiry: time.Unix(int64(st.CertNotAfter), 0).UTC(), SE: st,
	}, nil
}
