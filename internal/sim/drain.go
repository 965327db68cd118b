package sim

import (
	"math/rand/v2"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// drain ends a run so that every verdict is due: every honest device
// syncs; lost devices are reported and revoked; the clock passes every
// offline deadline and claim window; the ledger assesses what is overdue;
// everyone syncs again twice (a payee's sync entry reaches the ledger with
// the upload after the answer it records); a day later the ledger assesses
// again and everyone syncs once more.
func (w *world) drain() error {
	w.step = -1
	r := rand.New(rand.NewPCG(w.p.Seed, 0xd7a1))
	var order []int
	for d, dv := range w.devs {
		if dv.enrolled && !dv.lost && w.honest(d) {
			order = append(order, d)
		}
	}
	syncAll := func() error {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, d := range order {
			if err := w.sync(d); err != nil {
				return err
			}
		}
		return w.reenter()
	}
	if err := w.regiven(); err != nil {
		return err
	}
	if err := syncAll(); err != nil {
		return err
	}
	for d, dv := range w.devs {
		if dv.enrolled && dv.lost && w.honest(d) {
			if err := w.svc.Revoke(w.ctx, dv.id, "reported lost"); err != nil {
				return err
			}
			dv.reported = true
		}
	}
	pol := w.p.Config.Policy
	days := int64(max(pol.Person.MaxOfflineDays, pol.Merchant.MaxOfflineDays)) + int64(protocol.ClaimWindow)/86400 + 1
	for i, adv := range []int64{days * 86400, 86400} {
		w.now += adv
		if err := w.assess(); err != nil {
			return err
		}
		for range 2 - i {
			if err := syncAll(); err != nil {
				return err
			}
		}
	}
	return nil
}

// final checks the state the drain left. For every honest device that is
// not lost: the ledger's position equals its SE's purse, no payment of it
// still awaits a verdict, and it is not revoked. For every honest person:
// the account is not frozen, and account plus purses are at least
// deposits - withdrawals + what their SEs accepted - what payees' SEs
// accepted from them + online payments into their accounts - out of them.
// Every device left below zero is revoked (its
// deficit then is covered: recovered, or recorded as a loss, which
// conservation checks), no deficit is left unassessed, and what the
// operator actually lost is recorded in the report and within the bound
// (doc.go).
//
// A device below zero whose own log the ledger holds up to its last
// payment proves its overspend (overspend-unrevoked); one whose log never
// got that far leaves a deficit the ledger must assess by its deadline
// (deficit-unassessed).
func (w *world) final() (*Summary, error) {
	r, err := w.ledgerChecks()
	if err != nil {
		return nil, err
	}
	byHex := make(map[string]protocol.KeyID, len(w.byKey))
	for id := range w.byKey {
		byHex[id.String()] = id
	}
	dr := map[protocol.KeyID]*ledger.DeviceReport{}
	for i := range r.Devices {
		if id, ok := byHex[r.Devices[i].Device]; ok {
			dr[id] = &r.Devices[i]
		}
	}
	content := make([]int64, len(w.devs)) // what each honest device holds, as its owner counts it
	for d, dv := range w.devs {
		if !dv.enrolled || !w.honest(d) || dr[dv.id] == nil {
			continue
		}
		rep := dr[dv.id]
		if rep.Status == "revoked" && !dv.reported {
			w.violate("honest-revoked", "%s is revoked", w.name(d))
		}
		st, err := dv.se.Status(uint64(w.now))
		if err != nil {
			return nil, err
		}
		content[d] = int64(st.Balance)
		if dv.lost {
			// A lost purse keeps its balance, its unsent redeems and the
			// payments that never reached a payee.
			content[d] += dv.redeemed - rep.Redeemed
			pend, err := dv.se.Pending()
			if err != nil {
				return nil, err
			}
			for _, p := range pend {
				if i, ok := w.payIdx[p.ID]; ok && !w.pays[i].accepted {
					content[d] += w.pays[i].amount
				}
			}
			continue
		}
		if w.lostLoadForfeit(d, rep, int64(st.Balance)) > 0 {
			w.count("drain: an honest device's lost load partly forfeit")
		} else if int64(st.Balance) != rep.Position {
			w.violate("position", "the ledger holds %s for %s, whose SE holds %s", money(rep.Position), w.name(d), money(int64(st.Balance)))
		}
		if st.PendingCount > 0 {
			w.violate("pending-forever", "%s still has %d payment(s) of %s awaiting the ledger's verdict after every claim window",
				w.name(d), st.PendingCount, money(int64(st.PendingValue)))
		}
	}
	for p, ps := range w.people {
		if ps.spec.Attacker {
			continue
		}
		a, err := w.svc.Account(w.ctx, ps.spec.Name)
		if err != nil {
			return nil, err
		}
		if a.Frozen {
			w.violate("honest-frozen", "%s's account is frozen", ps.spec.Name)
		}
		var purses int64
		for d := range w.devs {
			if w.devs[d].spec.Owner == p {
				purses += content[d]
			}
		}
		want := ps.deposits - ps.withdrawals + ps.in - ps.out + ps.onlineIn - ps.onlineOut
		if a.Balance+purses < want {
			w.violate("honest-loss", "%s holds %s (account %s + purses %s); deposits, withdrawals and payments say %s",
				ps.spec.Name, money(a.Balance+purses), money(a.Balance), money(purses), money(want))
		}
	}
	last := w.lastCounters()
	for d, dv := range w.devs {
		rep := dr[dv.id]
		if rep == nil || w.byKey[dv.id] != d || rep.Position >= 0 || rep.Status == "revoked" {
			continue
		}
		if rep.Acked >= last[dv.id] {
			if rep.Position+rep.Forfeit >= 0 {
				// Value it held that the position does not count (a load
				// restored beyond what its account could be debited
				// again): debt without fraud, as the ledger rules.
				continue
			}
			w.violate("overspend-unrevoked", "%s ends %s below zero, proven by its own log, and is not revoked", w.name(d), money(-rep.Position))
		} else {
			w.violate("deficit-unassessed", "%s ends %s below zero and is not revoked: its log reached the ledger up to counter %d, its payments up to %d",
				w.name(d), money(-rep.Position), rep.Acked, last[dv.id])
		}
	}
	for _, op := range w.pendingAdmin {
		kind := "deposit"
		if op.withdraw {
			kind = "withdrawal"
		}
		w.violate("regress-unhealed", "the ledger went back in time and still refuses to take again the %s of %s from %s (ref %s)",
			kind, money(op.amount), w.people[op.person].spec.Name, op.ref)
	}
	s := w.summary(r, dr, content)
	if s.Unassessed != 0 {
		w.violate("unassessed", "%s of device deficits are still unassessed after every deadline", money(s.Unassessed))
	}
	if s.Outstanding < 0 {
		w.violate("negative-outstanding", "outstanding is %s", money(s.Outstanding))
	}
	if s.TrueLoss > s.Losses+s.Unassessed {
		w.violate("loss-unrecorded", "the operator is %s short; the report records losses of %s", money(s.TrueLoss), money(s.Losses+s.Unassessed))
	}
	if s.TrueLoss > s.Bound {
		w.violate("loss-above-bound", "the operator is %s short; attackers took %s more than they held", money(s.TrueLoss), money(s.Bound))
	}
	return s, nil
}

// lastCounters is, per device key, the highest counter of a payment of it
// that a payee's SE accepted.
func (w *world) lastCounters() map[protocol.KeyID]uint64 {
	last := map[protocol.KeyID]uint64{}
	for _, p := range w.pays {
		if id := w.devs[p.payer].id; p.accepted {
			last[id] = max(last[id], p.bundle.Payment.Counter)
		}
	}
	return last
}
