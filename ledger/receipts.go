package ledger

import (
	"context"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Receipts as evidence. A receipt is its payee's signed statement that
// its log entry at Receipt.Counter received the payment the receipt
// names (the SE signs the receipt for the receive entry it is about to
// append). A payer's confirm entry carries it to the ledger, so the
// ledger can hold it against the payee's own log, in whichever order the
// two arrive:
//
//   - the payee's stored entry at that counter is not the receive entry of
//     that payment (a rolled-back copy of the payee wrote something else
//     there), or
//   - another receipt of the payee names the same counter and another
//     payment,
//
// and either way the payee signed two statements for one counter: a
// proof of equivocation anyone can check (ProofReceipt). The receipt
// still claims its payment: a payment with a valid receipt is never
// expired and refunded to its payer.

// maxReceiptCounter bounds the counters receipts are kept for (stores
// index counters as signed 64-bit integers); no SE gets near it.
const maxReceiptCounter = 1 << 62

// plausible says whether an honest SE can have signed a payment with
// counter before it next syncs: at most MaxUnackedEntries above the last
// counter the ledger acknowledged (protocol.MaxUnackedEntries).
func plausible(d *DeviceRow, counter uint64) bool {
	return d == nil || counter <= d.Acked || counter-d.Acked <= protocol.MaxUnackedEntries
}

// receiptSays reports whether entry data (a log entry encoding) is the
// receive entry of payment pid.
func receiptSays(data []byte, pid protocol.Hash) (bool, error) {
	var e protocol.LogEntry
	if err := protocol.Unmarshal(data, &e); err != nil {
		return false, offpay.Errorf(offpay.EINTERNAL, "stored entry: %w", err)
	}
	if e.Kind != protocol.EntryReceive {
		return false, nil
	}
	var b protocol.PaymentBundle
	if err := protocol.Unmarshal(e.Body, &b); err != nil {
		return false, nil
	}
	return b.Payment.ID() == pid, nil
}

// receipts holds every verified receipt of this upload against its
// payee's log (stored entries, or receipts kept earlier), stores a proof
// for each disagreement, and keeps the receipts whose counters the
// payee's log has not reached yet.
func (st *settlement) receipts(ctx context.Context) error {
	var keys []PayKey
	first := map[PayKey]*upEntry{}
	for _, ue := range st.rcpts {
		r := ue.receipt
		payee := st.devs[r.Payee]
		if payee == nil || r.Counter == 0 || r.Counter > maxReceiptCounter {
			continue
		}
		k := PayKey{r.Payee, r.Counter}
		if prev := first[k]; prev != nil {
			if prev.receipt.Payment != r.Payment {
				if err := st.receiptProof(ctx, r.Payee, r.Counter, prev.data, ue.data); err != nil {
					return err
				}
			}
			continue
		}
		first[k] = ue
		if r.Counter > payee.Acked {
			keys = append(keys, k)
			continue
		}
		data, err := st.entry(ctx, r.Payee, r.Counter)
		if err != nil {
			return err
		}
		if ok, err := receiptSays(data, r.Payment); err != nil || ok {
			return err
		}
		if err := st.receiptProof(ctx, r.Payee, r.Counter, data, ue.data); err != nil {
			return err
		}
	}
	if len(keys) == 0 {
		return nil
	}
	stored, err := st.tx.Receipts(ctx, keys)
	if err != nil {
		return err
	}
	keep := make([]ReceiptRow, 0, len(keys))
	for _, k := range keys {
		ue := first[k]
		if old := stored[k]; old != nil {
			if old.PID != ue.receipt.Payment {
				src, err := st.entry(ctx, old.SrcDevice, old.SrcCounter)
				if err != nil {
					return err
				}
				if err := st.receiptProof(ctx, k.Payer, k.Counter, src, ue.data); err != nil {
					return err
				}
			}
			continue
		}
		keep = append(keep, ReceiptRow{Payee: k.Payer, Counter: k.Counter, PID: ue.receipt.Payment, SrcDevice: st.u.id, SrcCounter: ue.e.Counter})
	}
	return st.tx.InsertReceipts(ctx, keep)
}

// receiptProof stores a receipt proof against payee and revokes it.
func (st *settlement) receiptProof(ctx context.Context, payee protocol.KeyID, counter uint64, a, b []byte) error {
	return st.fraud(ctx, &ProofRow{Kind: ProofReceipt, Device: payee, Counter: counter, EntryA: a, EntryB: b, FoundAt: st.now})
}

// checkReceipts holds the uploader's new entries against the receipts
// kept for its counters: an entry that is not the receive entry of the
// payment its receipt names is half of a proof against the uploader.
func (st *settlement) checkReceipts(ctx context.Context, d *DeviceRow, news []upEntry) (*ProofRow, error) {
	lo, hi := news[0].e.Counter, news[len(news)-1].e.Counter
	if lo > maxReceiptCounter {
		return nil, nil
	}
	rs, err := st.tx.ReceiptsOf(ctx, d.ID, lo, min(hi, maxReceiptCounter))
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	for _, r := range rs {
		ue := &news[r.Counter-lo]
		if ue.e.Kind == protocol.EntryReceive && ue.pid == r.PID {
			continue
		}
		src, err := st.entry(ctx, r.SrcDevice, r.SrcCounter)
		if err != nil {
			return nil, err
		}
		return &ProofRow{Kind: ProofReceipt, Device: d.ID, Counter: r.Counter, EntryA: ue.data, EntryB: src, FoundAt: st.now}, nil
	}
	return nil, nil
}
