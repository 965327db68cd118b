package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/vse"
)

// exec runs one step. What an SE or the ledger refuses is an outcome,
// counted in the stats; an error is a failure of the simulator's own
// machinery (a file it cannot write, a database it cannot reach).
func (w *world) exec(s Step) error {
	switch s.Op {
	case opEnrol:
		return w.enrol(s.Dev)
	case opDeposit:
		return w.deposit(s.Dev, s.Amount)
	case opWithdraw:
		return w.withdraw(s.Dev, s.Amount)
	case opReserve:
		return w.reserve(s.Dev, s.Amount)
	case opPay:
		return w.pay(s)
	case opRedeem:
		return w.redeem(s.Dev, s.Amount)
	case opSync:
		return w.sync(s.Dev)
	case opAdvance:
		w.now += s.Amount
	case opLose:
		if w.usable(s.Dev) {
			w.devs[s.Dev].lost = true
			w.count("lose")
		}
	case opAssess:
		return w.assess()
	case opSnapshot:
		return w.snapshot(s.Dev)
	case opRollback:
		return w.rollback(s.Dev)
	case opReplayUpload:
		return w.replayUpload(s.Amount)
	case opReplayBundle:
		return w.replayBundle(s.Amount)
	case opRefund:
		return w.refund(s)
	case opCheckpoint:
		return w.checkpoint()
	case opRegress:
		return w.regress()
	case opOnline:
		return w.online(s)
	case opReplayOnline:
		return w.replayOnline(s)
	case opRevoke:
		return w.revoke(s.Dev)
	default:
		return fmt.Errorf("sim: unknown op %d", s.Op)
	}
	return nil
}

// code names a refusal for the stats: the SE's code or the ledger's.
func code(err error) string {
	var e *se.Error
	if errors.As(err, &e) {
		if e.Which != "" {
			return string(e.Code) + "/" + string(e.Which)
		}
		return string(e.Code)
	}
	return string(offpay.ErrorCode(err))
}

func (w *world) enrol(d int) error {
	dv := w.devs[d]
	if dv.enrolled {
		return nil
	}
	account := w.ownerOf(d).spec.Name
	switch {
	case dv.spec.CloneOf >= 0:
		src := w.devs[dv.spec.CloneOf]
		if !w.usable(dv.spec.CloneOf) || src.se == nil {
			w.count("clone: no source")
			return nil
		}
		if err := copyDir(src.dir, dv.dir); err != nil {
			return err
		}
		v, err := vse.Open(dv.dir, pin, seOptions)
		if err != nil {
			return err
		}
		dv.se, dv.id = v, src.id
		w.count("clone")
	case dv.spec.Forged:
		f := newForger(w.p.Seed, d)
		f.Time = uint64(w.now)
		e, err := w.svc.Enrol(w.ctx, f.Enrolment(account))
		if err != nil {
			w.count("enrol: refused " + code(err))
			return nil
		}
		f.Cert = e.Device
		dv.f, dv.id = f, f.ID
	default:
		v, err := vse.Create(dv.dir, pin, seOptions)
		if err != nil {
			return err
		}
		req, err := v.Enrol(account, uint64(w.now))
		if err != nil {
			return err
		}
		e, err := w.svc.Enrol(w.ctx, req)
		if err != nil {
			if w.honest(d) {
				w.violate("honest-refused", "the ledger refused to enrol %s: %s", w.name(d), code(err))
			}
			w.count("enrol: refused " + code(err))
			return nil
		}
		a := se.Anchors{Roots: []*protocol.Certificate{e.Root}, Issuers: []*protocol.Certificate{e.Issuer}}
		if err := v.Install(e.Device, a, e.RevList); err != nil {
			return err
		}
		dv.se, dv.id = v, v.ID()
	}
	dv.enrolled = true
	if _, ok := w.byKey[dv.id]; !ok {
		w.byKey[dv.id] = d
	}
	return nil
}

func (w *world) ref() string { return fmt.Sprintf("sim:%d:%d", w.step, w.now) }

func (w *world) deposit(p int, amount int64) error {
	if _, err := w.svc.Deposit(w.ctx, w.people[p].spec.Name, amount, w.ref()); err != nil {
		w.count("deposit: refused " + code(err))
		return nil
	}
	w.people[p].deposits += amount
	w.in += amount
	w.record(adminOp{person: p, amount: amount, ref: w.ref()})
	w.count("deposit")
	return nil
}

func (w *world) withdraw(p int, amount int64) error {
	a, err := w.svc.Account(w.ctx, w.people[p].spec.Name)
	if err != nil {
		return err
	}
	if amount < 0 || amount > a.Balance {
		amount = a.Balance
	}
	if amount <= 0 {
		return nil
	}
	if _, err := w.svc.Withdraw(w.ctx, a.Name, amount, w.ref()); err != nil {
		w.count("withdraw: refused " + code(err))
		return nil
	}
	w.people[p].withdrawals += amount
	w.out += amount
	w.record(adminOp{person: p, withdraw: true, amount: amount, ref: w.ref()})
	w.count("withdraw")
	return nil
}

// nonce derives a reserve's request id from the seed and the step.
func (w *world) nonce() protocol.Nonce {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], w.p.Seed)
	binary.BigEndian.PutUint64(b[8:], uint64(w.step)+uint64(w.now)<<20)
	h := sha256.Sum256(b[:])
	var n protocol.Nonce
	copy(n[:], h[:])
	return n
}

func (w *world) reserve(d int, amount int64) error {
	if !w.usable(d) {
		return nil
	}
	dv := w.devs[d]
	var rr *protocol.ReserveRequest
	if dv.f != nil {
		dv.f.Time = uint64(w.now)
		rr = dv.f.Reserve(uint64(amount), uint64(w.step)<<32|uint64(w.now))
	} else {
		var err error
		if rr, err = dv.se.Reserve(uint64(amount), w.nonce(), uint64(w.now)); err != nil {
			w.count("reserve: SE refused " + code(err))
			return nil
		}
	}
	l, err := w.svc.Reserve(w.ctx, rr)
	if err != nil {
		w.count("reserve: ledger refused " + code(err))
		return nil
	}
	w.ownerOf(d).loaded += amount
	w.loaded(d, amount)
	w.count("reserve")
	if dv.f != nil {
		dv.f.ApplyLoad(l)
		return nil
	}
	err = dv.se.ApplyLoad(l)
	if se.CodeOf(err) == se.CodeLoadConflict {
		// The ledger issued this number again: it went back in time
		// (regress.go). As the wallet does: sync, which gives it back the
		// log and renumbers this load, then ask again and apply.
		w.count("reserve: load number issued again")
		if err := w.sync(d); err != nil {
			return err
		}
		if l, err = w.svc.Reserve(w.ctx, rr); err != nil {
			if w.honest(d) {
				w.violate("honest-refused", "the ledger refused %s's reserve asked again after a sync: %s (%v)", w.name(d), code(err), err)
			}
			return nil
		}
		err = dv.se.ApplyLoad(l)
	}
	if err != nil {
		w.count("reserve: load left for the next sync " + code(err))
	}
	return nil
}

func (w *world) redeem(d int, amount int64) error {
	if !w.usable(d) {
		return nil
	}
	dv := w.devs[d]
	if dv.f != nil {
		dv.f.redeem(amount, w.now)
	} else if _, err := dv.se.Redeem(uint64(amount), uint64(w.now)); err != nil {
		w.count("redeem: refused " + code(err))
		return nil
	}
	dv.redeemed += amount
	w.count("redeem")
	return nil
}

func (w *world) assess() error {
	if _, err := w.svc.Assess(w.ctx); err != nil {
		return fmt.Errorf("sim: assess: %w", err)
	}
	w.count("assess")
	return nil
}

// snapshot copies a device's SE state aside; rollback restores it into a
// new folder, as a root attacker restoring a copied file would.
func (w *world) snapshot(d int) error {
	if !w.usable(d) || w.devs[d].se == nil {
		return nil
	}
	dv := w.devs[d]
	dv.snap, dv.snapLast = dv.dir+".snap", dv.last
	os.RemoveAll(dv.snap)
	w.count("snapshot")
	return copyDir(dv.dir, dv.snap)
}

func (w *world) rollback(d int) error {
	if !w.usable(d) || w.devs[d].snap == "" {
		return nil
	}
	dv := w.devs[d]
	dir := fmt.Sprintf("%s.rb%d", dv.snap, w.step)
	if err := copyDir(dv.snap, dir); err != nil {
		return err
	}
	v, err := vse.Open(dir, pin, seOptions)
	if err != nil {
		return err
	}
	dv.se, dv.dir, dv.last = v, dir, dv.snapLast
	w.count("rollback")
	return nil
}
