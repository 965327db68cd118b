package ledger

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Policy returns the policy new and renewed certificates get.
func (s *Service) Policy() Policy { return *s.policy.Load() }

// SetPolicy changes the policy for certificates issued from now on:
// enrolments, and renewals at sync. A device whose certificate's limits
// differ from the new policy's for its kind of account gets a renewed
// certificate at its next sync (README "Renewal"). Every Service over one
// store must run the same policy, or devices are renewed back and forth.
func (s *Service) SetPolicy(p Policy) error {
	if p.Validity < time.Hour {
		return invalid("certificate validity %v is below one hour", p.Validity)
	}
	if p.MaxIssued == 0 {
		p.MaxIssued = DefaultPolicy.MaxIssued
	}
	if p.MaxIssued < 0 || p.MaxIssued > MaxIssuedLimit {
		return invalid("the bound on the money issued must be 1 to %d minor units", int64(MaxIssuedLimit))
	}
	if err := p.checkAttestation(); err != nil {
		return err
	}
	all := []protocol.Limits{p.Person, p.Merchant}
	for _, c := range p.Classes {
		all = append(all, c.Person, c.Merchant)
	}
	for _, l := range all {
		if l.Holding > protocol.MaxAmount || l.PerPayment > protocol.MaxAmount || l.MaxOfflineValue > protocol.MaxAmount {
			return invalid("a limit is above 2^63-1")
		}
		if l.PerPayment > l.Holding {
			return invalid("per-payment limit %d above the holding limit %d", l.PerPayment, l.Holding)
		}
		if l.MinPIN < MinPINFloor || l.MinPIN > MinPINCeiling {
			return invalid("PIN minimum %d outside %d..%d", l.MinPIN, MinPINFloor, MinPINCeiling)
		}
	}
	s.policy.Store(&p)
	return nil
}

// metaPolicy is the meta key of the policy every Service over the store
// follows (PublishPolicy, LoadPolicy).
const metaPolicy = "policy"

// PublishPolicy is SetPolicy for every Service over the store: the policy
// is stored, and the others take it up at their next LoadPolicy (ledger
// serve reloads it every minute), so that several ledger processes on one
// database renew certificates alike.
func (s *Service) PublishPolicy(ctx context.Context, p Policy) error {
	if err := s.SetPolicy(p); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "encoding the policy: %w", err)
	}
	return s.update(ctx, func(tx Tx) error { return tx.PutMeta(ctx, metaPolicy, b) })
}

// LoadPolicy takes up the policy published in the store, if any; it
// reports whether there was one.
func (s *Service) LoadPolicy(ctx context.Context) (bool, error) {
	var b []byte
	if err := s.view(ctx, func(tx Tx) (err error) { b, err = tx.Meta(ctx, metaPolicy); return err }); err != nil || b == nil {
		return false, err
	}
	var p Policy
	if err := json.Unmarshal(b, &p); err != nil {
		return false, offpay.Errorf(offpay.EINTERNAL, "stored policy: %w", err)
	}
	// A policy stored before certificates carried a PIN minimum has none:
	// it takes the default.
	for _, l := range []*protocol.Limits{&p.Person, &p.Merchant} {
		if l.MinPIN == 0 {
			l.MinPIN = DefaultMinPIN
		}
	}
	if !reflect.DeepEqual(p, s.Policy()) {
		if err := s.SetPolicy(p); err != nil {
			return false, err
		}
	}
	return true, nil
}

// refresh reads the rows of ids in tx and caches what they say: the
// current certificate and the highest limits the device has held.
func (s *Service) refresh(ctx context.Context, tx Tx, ids []protocol.KeyID) (map[protocol.KeyID]*devInfo, error) {
	m, err := tx.Devices(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[protocol.KeyID]*devInfo, len(m))
	for id, row := range m {
		if out[id], err = s.cache(row); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// currentCert decodes a device row's certificate.
func currentCert(d *DeviceRow) (*protocol.Certificate, error) {
	c := new(protocol.Certificate)
	if err := protocol.Unmarshal(d.Cert, c); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "stored certificate of %v: %w", d.ID, err)
	}
	return c, nil
}

// renew gives d a new certificate for the same key when its current one
// expires within the renewal window, carries limits other than the
// policy's for its kind of account, or was issued by an issuer the ledger
// has rotated away from (Keys.Retired), and returns the certificate the sync
// result must carry: the renewed one until the device's log shows it
// applied a result issued after the renewal (a lost result does not lose
// the renewal), else nil. renewed reports whether d's row changed.
func (s *Service) renew(ctx context.Context, tx Tx, d *DeviceRow) (send *protocol.Certificate, renewed bool, err error) {
	cur, err := currentCert(d)
	if err != nil {
		return nil, false, err
	}
	pol := s.Policy()
	// A card whose manufacturer the policy no longer trusts is renewed as
	// software (README "Attested enrolment").
	class, err := s.classNow(ctx, tx, d.ID, cur.Class)
	if err != nil {
		return nil, false, err
	}
	lim := pol.limits(class, d.Merchant)
	now := s.now()
	window := min(s.opts.RenewBefore, pol.Validity/2)
	if cur.Limits != lim || cur.Class != class || int64(cur.NotAfter) <= now.Add(window).Unix() || cur.Issuer != s.keys.Issuer.ID() {
		c := *cur
		c.Class = class
		c.Serial = uint64(randomID())
		c.Issuer = s.keys.Issuer.ID()
		c.NotBefore, c.NotAfter = uint64(now.Add(-time.Minute).Unix()), uint64(now.Add(pol.Validity).Unix())
		c.Currency, c.Limits = s.opts.Currency, lim
		if err := c.Sign(s.keys.IssuerKey); err != nil {
			return nil, false, offpay.Errorf(offpay.EINTERNAL, "signing certificate: %w", err)
		}
		d.MaxPerPayment = max(d.MaxPerPayment, int64(cur.Limits.PerPayment), int64(lim.PerPayment))
		d.MaxHolding = max(d.MaxHolding, int64(cur.Limits.Holding), int64(lim.Holding))
		d.MaxDays = max(d.MaxDays, cur.Limits.MaxOfflineDays, lim.MaxOfflineDays)
		d.MaxHops = max(d.MaxHops, cur.Limits.MaxHops, lim.MaxHops)
		d.MaxCount = max(d.MaxCount, cur.Limits.MaxOfflineCount, lim.MaxOfflineCount)
		d.MaxValue = max(d.MaxValue, cur.Limits.MaxOfflineValue, lim.MaxOfflineValue)
		d.NotAfter = c.NotAfter
		d.Cert, d.CertTime = c.Marshal(), uint64(now.Unix())
		if err := tx.RenewDevice(ctx, d); err != nil {
			return nil, false, err
		}
		return &c, true, nil
	}
	// A result issued in the renewal's second may have gone out without
	// it, so only a sync entry later than that second proves delivery.
	if d.CertTime > 0 && d.SyncTime <= d.CertTime {
		return cur, false, nil
	}
	return nil, false, nil
}
