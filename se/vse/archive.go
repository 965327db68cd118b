package vse

import (
	"crypto/sha256"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// The archive. A ledger whose database goes back in time (a power loss
// that took its last commits, a backup restored) no longer holds entries
// it acknowledged. So the SE does not drop entries when a sync result
// acknowledges them: it keeps them for ArchiveFor of ledger time after
// the acknowledgement, and serves them to an upload that starts below
// Acked (the ledger answers "behind" with its own counter, and the wallet
// uploads again from there). Loads are recognised by their content: a
// load whose sequence number this SE applied with other bytes means the
// ledger reissued that number after losing the first (CodeLoadConflict).

// ArchiveFor is how long, in ledger time after a sync result
// acknowledged them, the SE keeps log entries: the claim window, the
// longest a payment stays claimable, so a ledger restored to any moment
// within it can be given back everything devices acknowledged since.
const ArchiveFor = protocol.ClaimWindow

// ackMark records that a sync result of ledger time Time acknowledged the
// log up to Acked.
type ackMark struct{ Acked, Time uint64 }

// loadRec is an applied load: its content and the entry that logged it.
type loadRec struct {
	Hash    [32]byte
	Counter uint64
}

func loadHash(l *protocol.Load) [32]byte { return sha256.Sum256(l.Marshal()) }

// archived moves FirstLog up to the first entry that a sync result
// acknowledged less than ArchiveFor before now (ledger time), and forgets
// the load records and marks below it.
func (s *state) archived(now uint64) {
	keep := s.FirstLog
	i := 0
	for ; i < len(s.Marks); i++ {
		m := s.Marks[i]
		if m.Time+ArchiveFor > now {
			break
		}
		keep = max(keep, m.Acked+1)
	}
	s.Marks = append([]ackMark(nil), s.Marks[i:]...)
	if keep > s.FirstLog {
		logStart := s.Counter - uint64(len(s.Log)) + 1
		if keep > logStart {
			s.Log = append([][]byte(nil), s.Log[min(keep-logStart, uint64(len(s.Log))):]...)
		}
		s.FirstLog = keep
	}
	for seq, r := range s.Loads {
		if r.Counter < s.FirstLog {
			delete(s.Loads, seq)
		}
	}
}

// reacknowledged renews the archive time of the entries from counter
// from on to t: the ledger had lost them, was given them again and
// acknowledged them at t, so it may go back to a copy from before t as
// it may for any acknowledgement. Marks stay in order of time: those
// below from keep their older times.
func (s *state) reacknowledged(from, t uint64) {
	for i := range s.Marks {
		if s.Marks[i].Acked >= from {
			s.Marks[i].Time = max(s.Marks[i].Time, t)
		}
	}
}

// knownLoad says how the SE stands to a load whose sequence number it
// has passed: nil if it applied exactly this load, CodeLoadConflict if it
// applied other bytes under that number, CodeBadLoad if it no longer
// remembers.
func (s *state) knownLoad(l *protocol.Load) error {
	r, ok := s.Loads[l.Seq]
	switch {
	case !ok:
		return se.Errorf(se.CodeBadLoad, "load sequence %d is older than this SE remembers (it applied up to %d)", l.Seq, s.LoadSeq)
	case r.Hash != loadHash(l):
		return se.Errorf(se.CodeLoadConflict, "the ledger issued load %d again with other contents: it has lost data; sync to give it back its log", l.Seq)
	}
	return nil
}

// IssuedReceipt returns the receipt this SE issued for payment pid, signed
// again: Ed25519 signatures are deterministic and the receipt's fields
// (payment, payee, the receive entry's counter and time) are all in the
// receive entry, so it is byte for byte the receipt first handed over. A
// wallet that lost it (a disk that filled up before it was saved) gives
// the payer the same receipt again. CodeUnknownPayment if the log (with
// its archive) holds no receive entry of pid.
func (v *VSE) IssuedReceipt(pid protocol.Hash) (*protocol.Receipt, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	es, err := v.entries(v.s.FirstLog, 0)
	if err != nil {
		return nil, err
	}
	for i := len(es) - 1; i >= 0; i-- {
		e := &es[i]
		if e.Kind != protocol.EntryReceive {
			continue
		}
		var b protocol.PaymentBundle
		if protocol.Unmarshal(e.Body, &b) != nil || b.Payment.ID() != pid {
			continue
		}
		rc := &protocol.Receipt{Version: protocol.Version, Payment: pid, Payee: v.id, Counter: e.Counter, Time: e.Time}
		if err := rc.Sign(v.signer); err != nil {
			return nil, err
		}
		return rc, nil
	}
	return nil, se.Errorf(se.CodeUnknownPayment, "no receive entry of payment %v is held", pid)
}
