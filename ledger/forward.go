package ledger

import (
	"context"
	"crypto/sha256"
	"sort"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// forward queues the evidence of a payment from payer, a mirror of
// another provider's device, for that provider: the payee's receive entry
// and the payee's certificate. It is written in the settlement's
// transaction, so it is sent if and only if the payment was recorded.
func (st *settlement) forward(ue *upEntry, payer *DeviceRow) error {
	f := protocol.Forward{Version: protocol.Version, Payee: *st.u.dev.cert, Entry: *ue.e}
	st.fwd = append(st.fwd, ForwardRow{ID: ue.pid, Provider: payer.Account[len(ForeignPrefix):], Data: f.Marshal(), CreatedAt: st.now})
	return nil
}

// PendingForwards returns up to limit forwarded evidence not yet taken by
// the transport, oldest first.
func (s *Service) PendingForwards(ctx context.Context, limit int) ([]ForwardRow, error) {
	var out []ForwardRow
	err := s.view(ctx, func(tx Tx) (err error) {
		out, err = tx.Forwards(ctx, limit)
		return err
	})
	return out, err
}

// MarkForwarded records that the transport durably took ids.
func (s *Service) MarkForwarded(ctx context.Context, ids []protocol.Hash) error {
	if len(ids) == 0 {
		return nil
	}
	return s.update(ctx, func(tx Tx) error { return tx.MarkForwarded(ctx, ids, s.now().UnixNano()) })
}

// ForwardResult says what SettleForwarded did with a payment.
type ForwardResult struct {
	Payment   protocol.Hash
	Status    uint8 // protocol.StatusSettled, or StatusExpired if it had gone back to its payer
	Duplicate bool  // it had been settled from this evidence before: nothing changed
}

// SettleForwarded settles a payment another provider's payee received
// from one of this ledger's devices, as the payer's provider: data is a
// protocol.Forward. It is settled like any payment learned from a payee
// (an equivocation of the payer is proven, the payer revoked, the payee
// credited), the payee being mirrored under its provider's clearing
// account, which this ledger then owes the amount (Obligations).
// Delivering the same evidence again changes nothing.
//
// Errors change nothing: EINVALID (malformed; a payment whose signature
// does not verify under the payer's certificate this ledger issued, or
// beyond its limits; a payer of another provider), ENOTFOUND (payer not
// enrolled here), EUNAUTHORIZED (payee certificate not from a provider of
// the scheme, or entry not signed by it), EFORBIDDEN (no scheme), ECONFLICT (the
// payee's SE signed another entry with this counter).
func (s *Service) SettleForwarded(ctx context.Context, data []byte) (*ForwardResult, error) {
	if of, ok := onlineForward(data); ok {
		return s.settleOnlineForward(ctx, of)
	}
	fws, errs := s.checkForwards(ctx, [][]byte{data})
	if errs[0] != nil {
		return nil, errs[0]
	}
	fw, err := fws[0], error(nil)
	out := new(ForwardResult)
	err = s.update(ctx, func(tx Tx) (err error) {
		out, err = s.applyForward(ctx, tx, fw)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SettleForwardedBatch settles many forwarded payments as SettleForwarded
// does each, in one transaction (a commit per message was most of the
// cost of cross-provider settlement): results[i] or errs[i] is the answer
// for data[i]. A refused message changes nothing and does not hold the
// others back; if the shared transaction fails, each is settled alone.
func (s *Service) SettleForwardedBatch(ctx context.Context, data [][]byte) ([]*ForwardResult, []error) {
	// Online payments across providers (onlinefwd.go) settle one by one;
	// the rest together, as offline evidence.
	res, errs := make([]*ForwardResult, len(data)), make([]error, len(data))
	var offline [][]byte
	var at []int
	for i, d := range data {
		if of, ok := onlineForward(d); ok {
			res[i], errs[i] = s.settleOnlineForward(ctx, of)
		} else {
			offline, at = append(offline, d), append(at, i)
		}
	}
	if len(offline) == 0 {
		return res, errs
	}
	r, e := s.settleOfflineBatch(ctx, offline)
	for k, i := range at {
		res[i], errs[i] = r[k], e[k]
	}
	return res, errs
}

// settleOfflineBatch is SettleForwardedBatch for Forwards alone.
func (s *Service) settleOfflineBatch(ctx context.Context, data [][]byte) ([]*ForwardResult, []error) {
	res, errs := make([]*ForwardResult, len(data)), make([]error, len(data))
	fws, cerrs := s.checkForwards(ctx, data)
	copy(errs, cerrs)
	// One settlement per payee: its forwarded entries settle together,
	// as they would in one upload of its log.
	var order []protocol.KeyID
	groups := map[protocol.KeyID][]int{}
	for i, fw := range fws {
		if fw == nil {
			continue
		}
		if _, ok := groups[fw.u.id]; !ok {
			order = append(order, fw.u.id)
		}
		groups[fw.u.id] = append(groups[fw.u.id], i)
	}
	errs2 := make([]error, len(data))
	err := s.update(ctx, func(tx Tx) error {
		clear(res)
		clear(errs2)
		for _, payee := range order {
			if err := s.applyForwards(ctx, tx, fws, groups[payee], res, errs2); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for i, e := range errs2 {
			if e != nil {
				errs[i] = e
			}
		}
		return res, errs
	}
	for i, fw := range fws {
		if fw != nil {
			res[i], errs[i] = nil, s.update(ctx, func(tx Tx) (err error) {
				res[i], err = s.applyForward(ctx, tx, fw)
				return err
			})
		}
	}
	return res, errs
}

// forwarded is a Forward checked outside any transaction.
type forwarded struct {
	f     *protocol.Forward
	prov  string
	u     *upload
	ue    *upEntry
	payer protocol.KeyID
}

// checkForwards decodes each of data and checks everything that needs no
// write, in SPEC.md's order: the payee's certificate (verified once per
// certificate) and entry signature, the payer (enrolled here, within its
// limits) and its signature. Signatures are verified in batches across
// the messages. fws[i] is set when errs[i] is nil.
func (s *Service) checkForwards(ctx context.Context, data [][]byte) ([]*forwarded, []error) {
	fws, errs := make([]*forwarded, len(data)), make([]error, len(data))
	var checks []sigCheck
	var refs []int
	for i, d := range data {
		f, err := protocol.UnmarshalForward(d)
		if err != nil {
			errs[i] = invalid("forwarded evidence: %v", err)
			continue
		}
		prov, err := s.foreignProvider(&f.Payee)
		if err != nil {
			errs[i] = err
			continue
		}
		if f.Entry.SigAlg != f.Payee.KeyAlg {
			errs[i] = offpay.Errorf(offpay.EUNAUTHORIZED, "receive entry is not signed by the payee %v", f.Payee.ID())
			continue
		}
		fws[i] = &forwarded{f: f, prov: prov}
		checks = append(checks, newCheck(f.Payee.KeyAlg, f.Payee.Key, protocol.EntrySigningInput(&f.Entry), f.Entry.Sig))
		refs = append(refs, i)
	}
	for k, err := range s.verifyAll(checks) {
		if i := refs[k]; err != nil {
			fws[i], errs[i] = nil, offpay.Errorf(offpay.EUNAUTHORIZED, "receive entry is not signed by the payee %v", fws[i].f.Payee.ID())
		}
	}
	checks, refs = checks[:0], refs[:0]
	for i, fw := range fws {
		if fw == nil {
			continue
		}
		if err := s.checkPayment(ctx, fw); err != nil {
			fws[i], errs[i] = nil, err
			continue
		}
		c := fw.u.payers[fw.payer].cert
		checks = append(checks, newCheck(c.KeyAlg, c.Key, fw.ue.payIn, fw.ue.pay.Sig))
		refs = append(refs, i)
	}
	for k, err := range s.verifyAll(checks) {
		if i := refs[k]; err != nil {
			errs[i] = invalid("payment %x is not signed by its payer %v", fws[i].ue.pid[:8], fws[i].payer)
			fws[i] = nil
		}
	}
	return fws, errs
}

// checkPayment decodes fw's entry and checks its payment against the
// payer this ledger enrolled, all but the payer's signature.
func (s *Service) checkPayment(ctx context.Context, fw *forwarded) error {
	f := fw.f
	payee := f.Payee.ID()
	// Everything is checked before anything is written: the payee is
	// mirrored in the settlement's transaction.
	u := &upload{id: payee, entries: make([]upEntry, 1), payers: map[protocol.KeyID]*devInfo{},
		dev: &devInfo{cert: &f.Payee, account: ForeignAccount(fw.prov)}}
	ue := &u.entries[0]
	ue.e = &f.Entry
	up := &protocol.SyncUpload{Version: protocol.Version, Device: payee, Entries: []protocol.LogEntry{f.Entry}}
	if err := s.decodeEntry(u, ue, 0, up); err != nil {
		return err
	}
	if ue.pay == nil || ue.rejected {
		return invalid("forwarded entry credits nothing: not a payment to its payee in %s", s.opts.Currency)
	}
	payer := ue.pay.Payer
	if err := s.lookupKnown(ctx, u, payer); err != nil {
		return err
	}
	p := u.payers[payer]
	switch {
	case p == nil:
		return offpay.Errorf(offpay.ENOTFOUND, "payer %v is not enrolled at this provider", payer)
	case isForeign(p.account):
		return invalid("payer %v belongs to another provider", payer)
	case !p.allows(ue.pay):
		return invalid("payment beyond the payer's limits")
	case ue.pay.SigAlg != p.cert.KeyAlg:
		return invalid("payment %x is not signed by its payer %v", ue.pid[:8], payer)
	}
	fw.u, fw.ue, fw.payer = u, ue, payer
	return nil
}

// lookupKnown reads payer into u from the cache, or from the store.
func (s *Service) lookupKnown(ctx context.Context, u *upload, payer protocol.KeyID) error {
	s.mu.RLock()
	d := s.certs[payer]
	s.mu.RUnlock()
	if d != nil && d.allows(u.entries[0].pay) {
		u.payers[payer] = d
		return nil
	}
	return s.readPayers(ctx, u, []protocol.KeyID{payer})
}

// applyForward settles a checked Forward in tx.
func (s *Service) applyForward(ctx context.Context, tx Tx, fw *forwarded) (*ForwardResult, error) {
	f, u, ue, payer := fw.f, fw.u, fw.ue, fw.payer
	payee := u.id
	out := &ForwardResult{Payment: ue.pid}
	have, err := tx.Entries(ctx, payee, f.Entry.Counter, f.Entry.Counter)
	if err != nil {
		return nil, err
	}
	if len(have) > 0 {
		if have[0].Hash != sha256.Sum256(ue.input) {
			return nil, offpay.Errorf(offpay.ECONFLICT, "payee %v signed another entry with counter %d", payee, f.Entry.Counter)
		}
		out.Duplicate = true
		known, err := tx.Payments(ctx, []PayKey{{payer, ue.pay.Counter}})
		if err != nil {
			return nil, err
		}
		if k := known[PayKey{payer, ue.pay.Counter}]; k != nil && k.ID == ue.pid {
			out.Status = k.Status
		} else {
			out.Status = protocol.StatusSettled // a honoured double spend (conflict table)
		}
		return out, nil
	}
	if err := s.mirrorTx(ctx, tx, &f.Payee, fw.prov); err != nil {
		return nil, err
	}
	st := &settlement{s: s, tx: tx, u: u, dirty: map[protocol.KeyID]bool{}, sweeps: map[string]int64{}, own: map[uint64]bool{}, now: s.now().UnixNano()}
	st.claimState = newClaimState(s.now().Unix())
	if st.devs, err = tx.Devices(ctx, []protocol.KeyID{payee, payer}); err != nil {
		return nil, err
	}
	st.debt0 = make(map[protocol.KeyID]int64, len(st.devs))
	for id, d := range st.devs {
		st.debt0[id] = debt(d)
	}
	news := u.entries
	if err := st.record(ctx, news); err != nil {
		return nil, err
	}
	if err := st.finish(ctx, st.devs[payee], news); err != nil {
		return nil, err
	}
	out.Status = st.status[ue.pid]
	return out, nil
}

// applyForwards settles the checked Forwards fws[idx], all of one payee,
// in tx as one settlement. An entry settled before gets its Duplicate
// result; one whose counter the payee's SE used for another entry gets
// ECONFLICT in errs and is left out.
func (s *Service) applyForwards(ctx context.Context, tx Tx, fws []*forwarded, idx []int, res []*ForwardResult, errs []error) error {
	first := fws[idx[0]]
	payee := first.u.id
	sort.SliceStable(idx, func(a, b int) bool { return fws[idx[a]].f.Entry.Counter < fws[idx[b]].f.Entry.Counter })
	u := &upload{id: payee, dev: first.u.dev, payers: map[protocol.KeyID]*devInfo{}}
	seen := map[uint64]protocol.Hash{}
	var take []int
	ids := []protocol.KeyID{payee}
	for _, i := range idx {
		fw := fws[i]
		c, h := fw.f.Entry.Counter, fw.ue.hash
		if prev, ok := seen[c]; ok {
			if prev != h {
				errs[i] = offpay.Errorf(offpay.ECONFLICT, "payee %v signed another entry with counter %d", payee, c)
			} else {
				res[i] = &ForwardResult{Payment: fw.ue.pid, Status: protocol.StatusSettled, Duplicate: true}
			}
			continue
		}
		seen[c] = h
		have, err := tx.Entries(ctx, payee, c, c)
		if err != nil {
			return err
		}
		if len(have) > 0 {
			r, err := s.applyForward(ctx, tx, fw) // a duplicate or a conflict: reads only
			if err != nil && offpay.ErrorCode(err) != offpay.ECONFLICT {
				return err
			}
			res[i], errs[i] = r, err
			continue
		}
		take = append(take, i)
		u.entries = append(u.entries, *fw.ue)
		u.payers[fw.payer] = fw.u.payers[fw.payer]
		ids = append(ids, fw.payer)
	}
	if len(take) == 0 {
		return nil
	}
	if err := s.mirrorTx(ctx, tx, &first.f.Payee, first.prov); err != nil {
		return err
	}
	st := &settlement{s: s, tx: tx, u: u, dirty: map[protocol.KeyID]bool{}, sweeps: map[string]int64{}, own: map[uint64]bool{}, now: s.now().UnixNano()}
	st.claimState = newClaimState(s.now().Unix())
	var err error
	if st.devs, err = tx.Devices(ctx, ids); err != nil {
		return err
	}
	st.debt0 = make(map[protocol.KeyID]int64, len(st.devs))
	for id, d := range st.devs {
		st.debt0[id] = debt(d)
	}
	if err := st.record(ctx, u.entries); err != nil {
		return err
	}
	if err := st.finish(ctx, st.devs[payee], u.entries); err != nil {
		return err
	}
	for _, i := range take {
		res[i] = &ForwardResult{Payment: fws[i].ue.pid, Status: st.status[fws[i].ue.pid]}
	}
	return nil
}
