package protocol

// Trust holds what a verifier trusts: root certificates (pinned, self-
// signed) and issuer certificates (each checked against a root when added).
type Trust struct {
	roots   map[KeyID]*Certificate
	issuers map[KeyID]*Certificate
}

// NewTrust pins roots. Each must be a valid self-signed root certificate.
func NewTrust(roots ...*Certificate) (*Trust, error) {
	t := &Trust{roots: map[KeyID]*Certificate{}, issuers: map[KeyID]*Certificate{}}
	for _, r := range roots {
		if err := r.validate(); err != nil {
			return nil, err
		}
		if r.Role != RoleRoot || r.Issuer != r.ID() {
			return nil, errf(ClassUntrusted, "not a self-signed root certificate")
		}
		if err := r.VerifyWith(r.KeyAlg, r.Key); err != nil {
			return nil, err
		}
		t.roots[r.ID()] = r
	}
	return t, nil
}

// AddIssuer adds an issuer certificate signed by a pinned root. Validity
// is checked at use, not here, so an expired issuer stays known.
func (t *Trust) AddIssuer(c *Certificate) error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.Role != RoleIssuer {
		return errf(ClassBadField, "not an issuer certificate")
	}
	root, ok := t.roots[c.Issuer]
	if !ok {
		return errf(ClassUntrusted, "issuer certificate not signed by a trusted root")
	}
	if err := c.VerifyWith(root.KeyAlg, root.Key); err != nil {
		return err
	}
	t.issuers[c.ID()] = c
	return nil
}

// Issuer returns the trusted issuer certificate with key id, if any.
func (t *Trust) Issuer(id KeyID) (*Certificate, bool) {
	c, ok := t.issuers[id]
	return c, ok
}

// Roots returns the pinned root certificates.
func (t *Trust) Roots() []*Certificate {
	out := make([]*Certificate, 0, len(t.roots))
	for _, r := range t.roots {
		out = append(out, r)
	}
	return out
}

// Issuers returns the known issuer certificates.
func (t *Trust) Issuers() []*Certificate {
	out := make([]*Certificate, 0, len(t.issuers))
	for _, c := range t.issuers {
		out = append(out, c)
	}
	return out
}

func checkValidity(c *Certificate, now uint64) error {
	if now < c.NotBefore {
		return errf(ClassNotYetValid, "%v certificate valid from %d, now %d", c.Role, c.NotBefore, now)
	}
	if now >= c.NotAfter {
		return errf(ClassExpired, "%v certificate expired at %d, now %d", c.Role, c.NotAfter, now)
	}
	return nil
}

// VerifyDevice checks a device certificate's chain to a trusted root at
// time now, in the order SPEC.md gives: shape, issuer known, signature,
// validity of device, issuer and root, then revocation (rl may be nil).
func (t *Trust) VerifyDevice(dev *Certificate, now uint64, rl *RevocationList) error {
	if err := dev.validate(); err != nil {
		return err
	}
	if dev.Role != RoleDevice {
		return errf(ClassBadField, "not a device certificate")
	}
	iss, ok := t.issuers[dev.Issuer]
	if !ok {
		return errf(ClassUntrusted, "device certificate issuer %v is not trusted", dev.Issuer)
	}
	if err := dev.VerifyWith(iss.KeyAlg, iss.Key); err != nil {
		return err
	}
	root := t.roots[iss.Issuer]
	for _, c := range []*Certificate{dev, iss, root} {
		if err := checkValidity(c, now); err != nil {
			return err
		}
	}
	if rl != nil && (rl.IsRevoked(dev.ID()) || rl.IsRevoked(iss.ID())) {
		return errf(ClassRevoked, "device %v or its issuer is revoked", dev.ID())
	}
	return nil
}

// VerifyRevocationList checks rl's signature by a trusted issuer or root.
func (t *Trust) VerifyRevocationList(rl *RevocationList) error {
	if err := rl.validate(); err != nil {
		return err
	}
	if iss, ok := t.issuers[rl.Signer]; ok {
		return rl.Verify(iss)
	}
	if root, ok := t.roots[rl.Signer]; ok {
		return rl.Verify(root)
	}
	return errf(ClassUntrusted, "revocation list signer %v is not trusted", rl.Signer)
}

// PayeeCheck is what a payee knows offline when a payment arrives.
type PayeeCheck struct {
	Trust    *Trust
	RevList  *RevocationList // the newest list the payee holds; required
	Self     KeyID           // the payee's own device ID
	Currency string          // the payee's purse currency
	MaxRLAge uint64          // the payee's certificate's MaxRevListAge (seconds)
	Now      uint64
}

// CheckBundle applies the payee's stateless offline checks, in SPEC.md's
// order. The SE adds the stateful ones: the nonce is its own and unused
// (a refund: the sale is its own, not refunded before, at least the
// refund's amount), the payment was not accepted before, the holding limit.
func CheckBundle(b *PaymentBundle, pc PayeeCheck) error {
	if err := b.validate(); err != nil {
		return err
	}
	if pc.RevList == nil {
		return errf(ClassStaleRevList, "payee holds no revocation list")
	}
	if pc.Now > pc.RevList.Issued && pc.Now-pc.RevList.Issued > pc.MaxRLAge {
		return errf(ClassStaleRevList, "revocation list is %d s old, limit %d", pc.Now-pc.RevList.Issued, pc.MaxRLAge)
	}
	if err := pc.Trust.VerifyDevice(&b.Cert, pc.Now, pc.RevList); err != nil {
		return err
	}
	p := &b.Payment
	if p.Payer != b.Cert.ID() {
		return errf(ClassBadField, "payment payer %v is not the certificate's device %v", p.Payer, b.Cert.ID())
	}
	if err := p.Verify(&b.Cert); err != nil {
		return err
	}
	if p.Payee != pc.Self {
		return errf(ClassWrongPayee, "payment is addressed to %v", p.Payee)
	}
	if p.Currency != b.Cert.Currency || p.Currency != pc.Currency {
		return errf(ClassCurrency, "payment in %s, payer purse %s, payee purse %s", p.Currency, b.Cert.Currency, pc.Currency)
	}
	// A refund is bounded by its sale, which only the payee's SE knows,
	// not by the merchant device's per-payment limit (0 when it only
	// receives).
	if !p.IsRefund() && p.Amount > b.Cert.Limits.PerPayment {
		return errf(ClassLimit, "amount %d above the payer's per-payment limit %d", p.Amount, b.Cert.Limits.PerPayment)
	}
	if p.Hops-1 > b.Cert.Limits.MaxHops { // Hops >= 1 (validate)
		return errf(ClassLimit, "value after %d offline payments, the payer's limit allows %d", p.Hops, b.Cert.Limits.MaxHops+1)
	}
	return nil
}
