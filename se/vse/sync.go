package vse

import (
	"errors"
	"sort"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// SyncUpload implements se.SE. since may be below Acked (a ledger that
// lost entries it had acknowledged) as far as the archive goes.
func (v *VSE) SyncUpload(since uint64, now uint64) (*protocol.SyncUpload, error) {
	if err := v.begin(true); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	if since < v.s.FirstLog && since <= v.s.Counter {
		return nil, se.Errorf(se.CodeLogPruned, "entries before %d are no longer kept (asked from %d)", v.s.FirstLog, since)
	}
	es, err := v.entries(since, protocol.MaxSyncEntries)
	if err != nil {
		return nil, err
	}
	if since >= 1 && since <= v.s.Acked && (v.s.Reupload == 0 || since < v.s.Reupload) {
		// The log again from below the acknowledgement: the ledger lost
		// it (archive.go). Remembered so that the next result renews the
		// archive time of what it acknowledges anew.
		v.s.Reupload = since
		if err := v.commit(); err != nil {
			return nil, err
		}
	}
	u := &protocol.SyncUpload{Version: protocol.Version, Device: v.id, Time: v.clock(now), Entries: es}
	if err := u.Sign(v.signer); err != nil {
		return nil, err
	}
	return u, nil
}

// ApplySyncResult implements se.SE. A result is bound to this device and
// to the log: its Acked can only cover entries that exist, and the offline
// count and value only drop by the payments it acks, so holding back an old
// result and applying it later frees nothing new. Everything it changes,
// the sweep's debit and the EntrySync entry included, is one commit.
func (v *VSE) ApplySyncResult(r *protocol.SyncResult) error {
	if err := v.begin(true); err != nil {
		return err
	}
	defer v.mu.Unlock()
	if c := r.Renewal(); c != nil && c.ID() != v.id {
		return se.Errorf(se.CodeBadSync, "renewed certificate is for %v", c.ID())
	}
	var res protocol.SyncResult
	if err := protocol.Unmarshal(r.Marshal(), &res); err != nil {
		return se.FromProtocol(err)
	}
	iss, ok := v.trust.Issuer(res.Signer)
	if !ok {
		return se.Errorf(se.CodeBadSync, "signer %v is not a trusted issuer", res.Signer)
	}
	if err := res.Verify(iss); err != nil {
		return se.FromProtocol(err)
	}
	s := v.s
	switch {
	case res.Device != v.id:
		return se.Errorf(se.CodeBadSync, "result is for device %v", res.Device)
	case res.Acked > s.Counter:
		return se.Errorf(se.CodeBadSync, "acks counter %d, log ends at %d", res.Acked, s.Counter)
	case res.Time < s.LastSync:
		return se.Errorf(se.CodeBadSync, "result time %s older than the last sync at %s", when(res.Time), when(s.LastSync))
	}
	// New revocation list: must be trusted; an older one is ignored.
	newRL := res.RevList.Number > v.rl.Number
	if newRL {
		if err := v.trust.VerifyRevocationList(&res.RevList); err != nil {
			return se.FromProtocol(err)
		}
	}
	renewed, err := v.checkRenewal(&res, newRL)
	if err != nil {
		return err
	}
	// Loads not yet applied, in order; all checked before any is applied.
	// A load the ledger reserved under a certificate this result replaces
	// may exceed a lowered holding limit: the higher of the two applies.
	loads := append([]protocol.Load(nil), res.Loads...)
	sort.Slice(loads, func(i, j int) bool { return loads[i].Seq < loads[j].Seq })
	seq, bal := s.LoadSeq, s.Balance
	hold := v.cert.Limits.Holding
	if renewed != nil {
		hold = max(hold, renewed.Limits.Holding)
	}
	var apply []*protocol.Load
	for i := range loads {
		l := &loads[i]
		if l.Seq <= seq {
			if err := s.knownLoad(l); err != nil && se.CodeOf(err) == se.CodeLoadConflict {
				return err
			}
			continue
		}
		if err := v.checkLoad(l, seq+1, bal, hold); err != nil {
			if errors.Is(err, se.LimitErr(se.LimitHolding)) {
				// Value received offline since the ledger issued it leaves
				// no room: this load and the ones after it wait for a
				// later result (the ledger sends them until the log shows
				// them applied). Refusing the whole result would refuse
				// every later one too, and strand the device.
				break
			}
			return err
		}
		seq, bal = l.Seq, bal+l.Amount
		apply = append(apply, l)
	}
	// The sweep is cumulative: only what is above the sweep already
	// applied is debited, so a repeated or older result takes nothing
	// more. The ledger can only sweep value this purse received, so a
	// sweep above the balance is a bad result.
	var sweep uint64
	if res.Swept > s.Swept {
		sweep = res.Swept - s.Swept
		if sweep > bal {
			return se.Errorf(se.CodeBadSync, "a sweep of %s (%s in all, %s applied before) is above the balance of %s", v.money(sweep), v.money(res.Swept), v.money(s.Swept), v.money(bal))
		}
	}

	for _, l := range apply {
		if err := v.applyLoad(l); err != nil {
			return err
		}
	}
	for _, st := range res.Statuses {
		if st.Status == protocol.StatusSettled || st.Status == protocol.StatusRejected || st.Status == protocol.StatusExpired {
			delete(s.Pending, string(st.Payment[:]))
		}
	}
	if newRL {
		s.RevList = res.RevList.Marshal()
	}
	if renewed != nil {
		s.Cert = renewed.Marshal()
	}
	s.LedgerFloor = max(s.LedgerFloor, res.Time, res.RevList.Issued)
	s.Floor = s.LedgerFloor
	s.LastSync = res.Time
	if res.Acked > s.Acked {
		s.Acked = res.Acked
	}
	s.acked(s.Acked) // received value the ledger has now seen: hop 0
	kept := s.Unacked[:0]
	for _, p := range s.Unacked {
		if p.Counter > s.Acked {
			kept = append(kept, p)
		}
	}
	s.Unacked = kept
	v.pruneNonces(s.Floor)
	// Archive the acknowledged part of the log, and prune what was
	// acknowledged longer ago than ArchiveFor: Head and Counter carry the
	// chain on.
	if s.Reupload > 0 {
		s.reacknowledged(s.Reupload, res.Time)
		s.Reupload = 0
	}
	if res.Acked > 0 && (len(s.Marks) == 0 || res.Acked > s.Marks[len(s.Marks)-1].Acked) {
		s.Marks = append(s.Marks, ackMark{Acked: res.Acked, Time: res.Time})
	}
	s.archived(max(s.LedgerFloor, res.Time))
	v.pruneClaims()
	v.pruneSales()
	// The sweep and the sync entry that records it, beyond Acked: the
	// next upload carries it, so the ledger learns how far this SE's
	// ledger floor (and with it the claim window) has moved.
	if sweep > 0 {
		s.drain(sweep)
		s.Balance -= sweep
		s.Swept = res.Swept
	}
	if res.Time > s.SyncLogged || sweep > 0 {
		a := protocol.SyncApplied{Version: protocol.Version, Device: v.id, Result: res.ID(), Time: res.Time, Swept: s.Swept}
		if err := v.appendEntry(protocol.EntrySync, s.Floor, a.Marshal()); err != nil {
			return err
		}
		s.SyncLogged = max(s.SyncLogged, res.Time)
		s.SyncAt = s.Counter
	}
	if err := v.commit(); err != nil {
		return err
	}
	if newRL {
		v.rl = &res.RevList
	}
	if renewed != nil {
		v.cert = renewed // its limits bind from now on
	}
	return v.pruneLogFile()
}

// checkRenewal returns the renewed certificate res carries, or nil. It
// must certify this SE's key for the same account and purse currency,
// chain to a trusted issuer, be valid at the result's (ledger) time, not
// be revoked by the newest list the SE will hold, and not be older than
// the installed certificate.
func (v *VSE) checkRenewal(res *protocol.SyncResult, newRL bool) (*protocol.Certificate, error) {
	c := res.Renewal()
	if c == nil {
		return nil, nil
	}
	cur := v.cert
	switch {
	case c.ID() != v.id || c.Role != protocol.RoleDevice:
		return nil, se.Errorf(se.CodeBadSync, "renewed certificate is not this SE's device certificate")
	case c.Account != cur.Account || c.Currency != cur.Currency:
		return nil, se.Errorf(se.CodeBadSync, "renewal changes the account or purse currency")
	case c.NotBefore < cur.NotBefore:
		return nil, se.Errorf(se.CodeBadSync, "renewal older than the installed certificate")
	}
	rl := v.rl
	if newRL {
		rl = &res.RevList
	}
	if err := v.trust.VerifyDevice(c, res.Time, rl); err != nil {
		return nil, &se.Error{Code: se.CodeBadSync, Detail: "renewed certificate: " + err.Error(), Err: err}
	}
	return c, nil
}
