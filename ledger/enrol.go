package ledger

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

const metaRevList = "revlist"

// EnrolmentWindow is how far an enrolment request's time may be from the
// ledger's clock. A device enrols online, so its clock can be set; one
// that is days off would also misjudge its offline deadlines.
const EnrolmentWindow = 24 * time.Hour

// Enrol certifies an SE key for an account. The request must be signed by
// the key it names (proof of possession). Enrolling the same key for the
// same account again returns the same certificate. Enrol is the
// administrator's call; a device enrols itself with a one-time code
// (EnrolWithCode).
func (s *Service) Enrol(ctx context.Context, req *protocol.EnrolmentRequest) (*Enrolment, error) {
	return s.enrol(ctx, req, nil)
}

// enrol is Enrol; use, if set, runs in the same transaction before the
// device is certified (a one-time code's check and use).
func (s *Service) enrol(ctx context.Context, req *protocol.EnrolmentRequest, use func(tx Tx, r *protocol.EnrolmentRequest) error) (*Enrolment, error) {
	var r protocol.EnrolmentRequest
	if err := protocol.Unmarshal(req.Marshal(), &r); err != nil {
		return nil, invalid("enrolment request: %v", err)
	}
	if err := r.Verify(); err != nil {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "enrolment request is not signed by its key")
	}
	r.Attestation = req.Attestation
	if err := s.checkClass(&r); err != nil {
		return nil, err
	}
	if now, t := s.now(), time.Unix(int64(min(r.Time, 1<<62)), 0); t.Before(now.Add(-EnrolmentWindow)) || t.After(now.Add(EnrolmentWindow)) {
		return nil, invalid("enrolment request time %s is more than %v from the ledger's clock (%s): set the device's clock",
			t.UTC().Format(time.RFC3339), EnrolmentWindow, now.UTC().Format(time.RFC3339))
	}
	id := r.ID()
	var out Enrolment
	err := s.update(ctx, func(tx Tx) error {
		if use != nil {
			if err := use(tx, &r); err != nil {
				return err
			}
		}
		a, err := mustAccount(ctx, tx, r.Account)
		if err != nil {
			return err
		}
		if a.Frozen {
			return offpay.Errorf(offpay.EFORBIDDEN, "account %q is frozen", a.Name)
		}
		m, err := tx.Devices(ctx, []protocol.KeyID{id})
		if err != nil {
			return err
		}
		var certBytes []byte
		if old := m[id]; old != nil {
			if old.Revoked {
				return revoked(id)
			}
			if old.Account != r.Account {
				return offpay.Errorf(offpay.ECONFLICT, "device %v is enrolled for another account", id)
			}
			certBytes = old.Cert
		} else {
			cert, err := s.issueCert(&r, a)
			if err != nil {
				return err
			}
			certBytes = cert.Marshal()
			d := &DeviceRow{ID: id, Account: a.Name, Merchant: a.Merchant, Cert: certBytes, CreatedAt: s.now().UnixNano(),
				LastSeen: uint64(s.now().Unix()), NotAfter: cert.NotAfter}
			if err := tx.InsertDevice(ctx, d); err != nil {
				return err
			}
			if err := recordAttestation(ctx, tx, &r); err != nil {
				return err
			}
			if err := s.claimPending(ctx, tx, d, a); err != nil {
				return err
			}
		}
		out.Device = new(protocol.Certificate)
		if err := protocol.Unmarshal(certBytes, out.Device); err != nil {
			return offpay.Errorf(offpay.EINTERNAL, "stored certificate: %w", err)
		}
		out.RevList, err = s.revList(ctx, tx, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	out.Issuer, out.Root = s.keys.Issuer, s.keys.Root
	return &out, nil
}

func (s *Service) issueCert(r *protocol.EnrolmentRequest, a *AccountRow) (*protocol.Certificate, error) {
	pol := s.Policy()
	lim, name := pol.limits(r.Class, a.Merchant), ""
	if a.Merchant {
		name = a.DisplayName
		if name == "" {
			name = a.Name // accounts created before display names: the account reference
		}
	}
	now := s.now()
	c := &protocol.Certificate{
		Version: protocol.Version, Role: protocol.RoleDevice,
		Serial: uint64(randomID()), // random serials: no hot sequence
		Issuer: s.keys.Issuer.ID(), KeyAlg: r.KeyAlg, Key: r.Key,
		NotBefore: uint64(now.Add(-time.Minute).Unix()), NotAfter: uint64(now.Add(pol.Validity).Unix()),
		Account: r.Account, Class: r.Class, Currency: s.opts.Currency, Limits: lim, Name: name,
	}
	if err := c.Sign(s.keys.IssuerKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing certificate: %w", err)
	}
	return c, nil
}

// claimPending credits a newly enrolled payee with payments recorded
// before it enrolled (a payer uploaded them first). The ledger could not
// tell who was to claim them until now; the payee's SE accepted them
// offline against a certificate the ledger is now issuing, so they count
// as claimed.
func (s *Service) claimPending(ctx context.Context, tx Tx, d *DeviceRow, a *AccountRow) error {
	ps, err := tx.PendingTo(ctx, d.ID)
	if err != nil || len(ps) == 0 {
		return err
	}
	var sum int64
	payers := make([]protocol.KeyID, len(ps))
	for i := range ps {
		if sum, err = offpay.AddMinor(sum, ps[i].Amount); err != nil {
			return err
		}
		ps[i].Status = protocol.StatusSettled
		if err := tx.SetPaymentStatus(ctx, ps[i].Key(), ps[i].ID, protocol.StatusSettled, s.now().Unix()); err != nil {
			return err
		}
		payers[i] = ps[i].Payer
	}
	devs, err := tx.Devices(ctx, payers)
	if err != nil {
		return err
	}
	devs[d.ID] = d
	lines := map[protocol.Hash]LineRef{}
	d.Received += sum
	if d.Merchant {
		d.Swept += sum
		if err := s.postSweep(ctx, tx, a, sum, ps, "enrol:"+d.ID.String(), lines); err != nil {
			return err
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
	}
	if err := s.notifyPayments(ctx, tx, NotePaymentSettled, "", ps, devs, lines, nil); err != nil {
		return err
	}
	return tx.UpdateDevice(ctx, d)
}

// RevocationList returns the current signed list, re-signing it first if
// it has grown older than Options.RevocationEvery.
func (s *Service) RevocationList(ctx context.Context) (*protocol.RevocationList, error) {
	var rl *protocol.RevocationList
	err := s.view(ctx, func(tx Tx) error {
		b, err := tx.Meta(ctx, metaRevList)
		if err != nil || b == nil {
			return err
		}
		rl = new(protocol.RevocationList)
		return protocol.Unmarshal(b, rl)
	})
	if err != nil {
		return nil, err
	}
	if rl != nil && !s.stale(rl) {
		return rl, nil
	}
	err = s.update(ctx, func(tx Tx) (err error) {
		rl, err = s.revList(ctx, tx, nil)
		return err
	})
	return rl, err
}

func (s *Service) stale(rl *protocol.RevocationList) bool {
	return s.now().Unix()-int64(rl.Issued) >= int64(s.opts.RevocationEvery/time.Second)
}

// revList returns the current list inside tx. It issues a new one (number
// + 1) when there is none, when it is stale, or when add names a device
// not yet on it.
func (s *Service) revList(ctx context.Context, tx Tx, add *protocol.KeyID) (*protocol.RevocationList, error) {
	b, err := tx.Meta(ctx, metaRevList)
	if err != nil {
		return nil, err
	}
	old := &protocol.RevocationList{}
	if b != nil {
		if err := protocol.Unmarshal(b, old); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "stored revocation list: %w", err)
		}
		if !s.stale(old) && (add == nil || old.IsRevoked(*add)) {
			return old, nil
		}
	}
	ids := slices.Clone(old.Revoked)
	if add != nil && !old.IsRevoked(*add) {
		ids = append(ids, *add)
		slices.SortFunc(ids, func(a, b protocol.KeyID) int { return bytes.Compare(a[:], b[:]) })
	}
	rl := &protocol.RevocationList{Version: protocol.Version, Number: old.Number + 1, Issued: uint64(s.now().Unix()),
		Signer: s.keys.Issuer.ID(), Revoked: ids}
	if err := rl.Sign(s.keys.IssuerKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing revocation list: %w", err)
	}
	return rl, tx.PutMeta(ctx, metaRevList, rl.Marshal())
}

// Revoke revokes a device (administrator: lost or stolen device). Its
// account is not frozen; payments it made offline before the list reached
// payees are still honoured. Revoking twice is a no-op.
func (s *Service) Revoke(ctx context.Context, device protocol.KeyID, reason string) error {
	if len(reason) > 200 {
		return invalid("reason is too long")
	}
	if err := CheckText("reason", reason); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx) error {
		m, err := tx.Devices(ctx, []protocol.KeyID{device})
		if err != nil {
			return err
		}
		d := m[device]
		if d == nil {
			return offpay.Errorf(offpay.ENOTFOUND, "device %v not found", device)
		}
		return s.revoke(ctx, tx, d, reason, false)
	})
}

// revoke marks d revoked (and saves it), re-issues the list, optionally
// freezes the account, settles its cover and queues the notification.
func (s *Service) revoke(ctx context.Context, tx Tx, d *DeviceRow, reason string, freeze bool) error {
	a, err := mustAccount(ctx, tx, d.Account)
	if err != nil {
		return err
	}
	frozen := freeze && !a.Frozen
	if freeze {
		a.Frozen = true
	}
	if !d.Revoked {
		d.Revoked, d.RevokedAt, d.Reason = true, s.now().UnixNano(), reason
		if err := tx.UpdateDevice(ctx, d); err != nil {
			return err
		}
		rl, err := s.revList(ctx, tx, &d.ID)
		if err != nil {
			return err
		}
		if err := s.notify(ctx, tx, NoteDeviceRevoked, d.ID.String(), d.Account, map[string]any{
			"device": d.ID.String(), "account": d.Account, "reason": reason, "revocation_list": rl.Number}); err != nil {
			return err
		}
	}
	if frozen {
		if err := s.notify(ctx, tx, NoteAccountFrozen, a.Name, a.Name, AccountFrozen{Account: a.Name, Device: d.ID.String(), Reason: reason}); err != nil {
			return err
		}
	}
	if err := s.cover(ctx, tx, a); err != nil {
		return err
	}
	return tx.UpdateAccount(ctx, a)
}
