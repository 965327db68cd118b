package ledger

import (
	"context"
	"fmt"
	"slices"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// noteChunk is how many payments one payment_settled notification carries:
// a big upload becomes a few notifications, not one row per payment.
const noteChunk = 500

// finish advances the uploader's log, applies redeems, stores the new
// entries, saves every touched device and account, settles overspend cover
// and queues the notifications.
func (st *settlement) finish(ctx context.Context, d *DeviceRow, news []upEntry) error {
	tx := st.tx
	redeems := map[string][]upEntry{}
	if len(news) > 0 {
		rows := make([]EntryRow, len(news))
		for i := range news {
			ue := &news[i]
			rows[i] = EntryRow{Device: d.ID, Counter: ue.e.Counter, Hash: ue.hash, Kind: uint8(ue.e.Kind), Data: ue.data}
			switch {
			case ue.load != nil:
				d.LoadsIn = max(d.LoadsIn, ue.load.Seq)
			case ue.redeem != nil:
				var err error
				if d.Redeemed, err = offpay.AddMinor(d.Redeemed, int64(ue.redeem.Amount)); err != nil {
					return err
				}
				redeems[d.Account] = append(redeems[d.Account], *ue)
			}
		}
		last := &news[len(news)-1]
		d.Acked, d.LastHash = last.e.Counter, last.hash
		st.dirty[d.ID] = true
		if err := tx.InsertEntries(ctx, rows); err != nil {
			return err
		}
	}
	ids := make([]protocol.KeyID, 0, len(st.dirty))
	for id := range st.dirty {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b protocol.KeyID) int { return compareIDs(a, b) }) // stable lock order
	rows := make([]*DeviceRow, len(ids))
	// An account's cover can change only if a device's proven debt
	// changed, or if it carries a loss and gains money; most payers'
	// accounts are then never touched.
	need := map[string]bool{}
	accounts := map[string]bool{}
	for i, id := range ids {
		dev := st.devs[id]
		rows[i] = dev
		if debt(dev) != st.debt0[id] {
			need[dev.Account], accounts[dev.Account] = true, true
		}
	}
	if err := tx.UpdateDevices(ctx, rows); err != nil {
		return err
	}
	for name := range st.sweeps {
		accounts[name] = true
	}
	for name := range redeems {
		accounts[name] = true
	}
	st.refundAccounts(accounts)
	names := make([]string, 0, len(accounts))
	for n := range accounts {
		names = append(names, n)
	}
	slices.Sort(names)
	accts, err := tx.AccountsNamed(ctx, names)
	if err != nil {
		return err
	}
	// Statement lines and notifications go out in one statement each.
	bt := &bufTx{Tx: tx}
	// Refunds first: cover may then recover a loss from them.
	if err := st.refunds(ctx, bt, accts); err != nil {
		return err
	}
	for _, name := range names {
		a := accts[name]
		if a == nil {
			return offpay.Errorf(offpay.EINTERNAL, "account %q of a device is missing", name)
		}
		if sum := st.sweeps[name]; sum > 0 {
			ref := fmt.Sprintf("sync:%v:%d", d.ID, d.Acked)
			if err := st.s.post(ctx, bt, a, LineSettleIn, sum, ref); err != nil {
				return err
			}
		}
		for _, ue := range redeems[name] {
			ref := fmt.Sprintf("redeem:%v:%d", d.ID, ue.e.Counter)
			if err := st.s.post(ctx, bt, a, LineRedeem, int64(ue.redeem.Amount), ref); err != nil {
				return err
			}
		}
		if need[name] || a.Lost > 0 {
			if err := st.s.cover(ctx, bt, a); err != nil {
				return err
			}
		}
	}
	for _, name := range names {
		if err := tx.UpdateAccount(ctx, accts[name]); err != nil {
			return err
		}
	}
	// payment_settled reports payments when they settle: recorded settled
	// (the payee showed them), or claimed later. One awaiting its claim is
	// reported when claimed, or as payment_expired.
	var settled []PaymentRow
	for _, rows := range [][]PaymentRow{st.fresh, st.extra, st.claims} {
		for _, p := range rows {
			if p.Status == protocol.StatusSettled {
				settled = append(settled, p)
			}
		}
	}
	if err := st.notifyPayments(ctx, bt, NotePaymentSettled, "", settled); err != nil {
		return err
	}
	return bt.flush(ctx)
}

// bufTx holds back statement lines and notifications until flush, so that
// a settlement touching many accounts writes each kind once.
type bufTx struct {
	Tx
	lines []LineRow
	notes []OutboxRow
}

func (b *bufTx) InsertLines(_ context.Context, ls []LineRow) error {
	b.lines = append(b.lines, ls...)
	return nil
}

func (b *bufTx) InsertOutbox(_ context.Context, rs []OutboxRow) error {
	b.notes = append(b.notes, rs...)
	return nil
}

func (b *bufTx) flush(ctx context.Context) error {
	if len(b.lines) > 0 {
		if err := b.Tx.InsertLines(ctx, b.lines); err != nil {
			return err
		}
	}
	if len(b.notes) > 0 {
		return b.Tx.InsertOutbox(ctx, b.notes)
	}
	return nil
}

func compareIDs(a, b protocol.KeyID) int { return slices.Compare(a[:], b[:]) }

// SettledPayment is one payment in a payment_settled notification.
type SettledPayment struct {
	Payer        string `json:"payer"`
	Counter      uint64 `json:"counter"`
	PaymentID    string `json:"payment_id"`
	Payee        string `json:"payee"`
	Amount       int64  `json:"amount_minor"`
	Currency     string `json:"currency"`
	Status       string `json:"status"`
	PayerAccount string `json:"payer_account,omitempty"`
	PayeeAccount string `json:"payee_account,omitempty"`
}

// SettledPayload is the payload of a payment_settled notification.
type SettledPayload struct {
	Payments []SettledPayment `json:"payments"`
}

// notifyPayments queues notes of kind about payments, noteChunk a note;
// prefix, if any, starts their idempotency keys.
func (st *settlement) notifyPayments(ctx context.Context, tx Tx, kind, prefix string, all []PaymentRow) error {
	for lo := 0; lo < len(all); lo += noteChunk {
		chunk := all[lo:min(lo+noteChunk, len(all))]
		items := make([]SettledPayment, len(chunk))
		for i, p := range chunk {
			items[i] = SettledPayment{Payer: p.Payer.String(), Counter: p.Counter, PaymentID: p.ID.String(),
				Payee: p.Payee.String(), Amount: p.Amount, Currency: st.s.opts.Currency, Status: statusName(p.Status)}
			if d := st.devs[p.Payer]; d != nil {
				items[i].PayerAccount = d.Account
			}
			if d := st.devs[p.Payee]; d != nil {
				items[i].PayeeAccount = d.Account
			}
		}
		key := fmt.Sprintf("%s%v:%d:%v", prefix, chunk[0].Payer, chunk[0].Counter, chunk[0].ID)
		if err := st.s.notify(ctx, tx, kind, key, SettledPayload{Payments: items}); err != nil {
			return err
		}
	}
	return nil
}

func statusName(s uint8) string {
	switch s {
	case protocol.StatusPending:
		return "pending"
	case protocol.StatusSettled:
		return "settled"
	case protocol.StatusRejected:
		return "rejected"
	case protocol.StatusExpired:
		return "expired"
	}
	return "unknown"
}

// result builds the signed answer: what is acknowledged, the status of
// every payment the upload named, the counters the ledger knows exist but
// has not seen, the loads not yet applied, a fresh revocation list, and a
// renewed certificate when one is due or not yet delivered (renew.go).
func (st *settlement) result(ctx context.Context, d *DeviceRow) (*protocol.SyncResult, error) {
	s := st.s
	res := &protocol.SyncResult{Version: protocol.Version, Device: d.ID, Acked: d.Acked, Time: uint64(s.now().Unix()),
		Signer: s.keys.Issuer.ID(), Statuses: []protocol.PaymentStatus{}, Missing: []uint64{}, Loads: []protocol.Load{}}
	seen := map[protocol.Hash]bool{}
	for _, ue := range st.u.entries {
		if ue.pay == nil || seen[ue.pid] || len(res.Statuses) >= protocol.MaxSyncStatuses {
			continue
		}
		seen[ue.pid] = true
		status, ok := st.status[ue.pid]
		switch {
		case ue.rejected:
			status = protocol.StatusRejected
		case !ok:
			// Recorded by an earlier upload (a resend): settled, unless
			// ownStatuses finds it still pending or lately resolved.
			status = protocol.StatusSettled
		}
		res.Statuses = append(res.Statuses, protocol.PaymentStatus{Payment: ue.pid, Status: status})
	}
	if err := st.ownStatuses(ctx, d, res, seen); err != nil {
		return nil, err
	}
	res.Swept = uint64(d.Swept)
	for c := d.Acked + 1; c <= d.MaxSent && len(res.Missing) < protocol.MaxSyncEntries; c++ {
		res.Missing = append(res.Missing, c)
	}
	loads, err := st.tx.LoadsAfter(ctx, d.ID, d.LoadsIn, protocol.MaxSyncLoads)
	if err != nil {
		return nil, err
	}
	for _, l := range loads {
		var load protocol.Load
		if err := protocol.Unmarshal(l.Data, &load); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "stored load: %w", err)
		}
		res.Loads = append(res.Loads, load)
	}
	rl, err := s.revList(ctx, st.tx, nil)
	if err != nil {
		return nil, err
	}
	res.RevList = *rl
	cert, _, err := s.renew(ctx, st.tx, d)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		res.Cert = []protocol.Certificate{*cert}
	}
	if err := res.Sign(s.keys.IssuerKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing sync result: %w", err)
	}
	return res, nil
}
