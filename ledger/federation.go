package ledger

import (
	"context"
	"crypto/sha256"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Federation (README "Federation"): several providers, each a ledger
// whose issuer the scheme's root certified, settle payments between their
// devices. A device of another provider that this ledger meets (a payer
// whose payment a local payee uploads, or a payee whose upload another
// provider forwards) is mirrored here: a device row under the clearing
// account of its provider, ForeignPrefix + name. A mirror never syncs,
// reserves or signs a request here; its position is not purse value but
// what the two providers owe each other (Received: owed to its provider,
// Sent: owed by it), so the money-safety rules (exposure, cover, debt)
// skip it: the payer's own provider applies them to the real device.

// ForeignPrefix begins the name of every clearing account. Account names
// an operator can create hold no ':' (CheckAccountName), so no local
// account is ever taken for one.
const ForeignPrefix = "scheme:"

// ForeignAccount is the clearing account of provider's mirrored devices.
func ForeignAccount(provider string) string { return ForeignPrefix + provider }

func isForeign(account string) bool { return strings.HasPrefix(account, ForeignPrefix) }

// foreign says whether d mirrors a device of another provider.
func foreign(d *DeviceRow) bool { return d != nil && isForeign(d.Account) }

// Provider is one member of the scheme as this ledger knows it: its name
// and the issuer certificates the scheme's root signed for it (current and
// retired). Suspension acts through the scheme's revocation list (payees
// refuse the provider's devices); a payment a payee accepted before it
// held that list is still settled and owed, as any payment a payee
// accepted offline.
type Provider struct {
	Name      string
	Issuers   []*protocol.Certificate
	Suspended bool
}

// Federation is the scheme's register as this ledger holds it.
type Federation struct {
	Self      string // this ledger's provider name
	Providers []Provider
}

type fedState struct {
	self      string
	issuers   map[protocol.KeyID]*protocol.Certificate
	owner     map[protocol.KeyID]string // issuer -> provider
	suspended map[string]bool
	mu        sync.Mutex
	verified  map[[32]byte]bool // sha256 of device certificates verified under issuers
}

// maxVerified bounds the certificates remembered as verified.
const maxVerified = 1 << 16

type fedHolder struct{ p atomic.Pointer[fedState] }

// SetFederation installs the scheme's register. Every issuer must chain
// to this ledger's root (the scheme's), this ledger's own issuers must be
// listed under Self and no other provider may claim one of them.
// Errors: EINVALID.
func (s *Service) SetFederation(f Federation) error {
	if err := CheckAccountName(f.Self); err != nil {
		return invalid("provider name %q: %v", f.Self, err)
	}
	trust, err := protocol.NewTrust(s.keys.Root)
	if err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "root: %v", err)
	}
	st := &fedState{self: f.Self, issuers: map[protocol.KeyID]*protocol.Certificate{}, owner: map[protocol.KeyID]string{}, suspended: map[string]bool{}, verified: map[[32]byte]bool{}}
	self := false
	for _, p := range f.Providers {
		if err := CheckAccountName(p.Name); err != nil {
			return invalid("provider name %q: %v", p.Name, err)
		}
		if _, dup := st.suspended[p.Name]; dup {
			return invalid("provider %s listed twice", p.Name)
		}
		st.suspended[p.Name] = p.Suspended
		self = self || p.Name == f.Self
		for _, c := range p.Issuers {
			if err := trust.AddIssuer(c); err != nil {
				return invalid("issuer %v of %s does not chain to this ledger's root: %v", c.ID(), p.Name, err)
			}
			if o, ok := st.owner[c.ID()]; ok && o != p.Name {
				return invalid("issuer %v claimed by %s and %s", c.ID(), o, p.Name)
			}
			_, ours := s.trust.Issuer(c.ID())
			if ours != (p.Name == f.Self) {
				return invalid("issuer %v of %s: this ledger's issuers belong to %s alone", c.ID(), p.Name, f.Self)
			}
			st.issuers[c.ID()], st.owner[c.ID()] = c, p.Name
		}
	}
	if !self {
		return invalid("the register does not list this provider, %s", f.Self)
	}
	s.fed.p.Store(st)
	return nil
}

// foreignProvider returns the provider of c, a device certificate of
// another member of the scheme whose issuer signed it, or an error.
// Validity is not checked: a payee accepted it offline when it was valid,
// and the ledger honours what its payees accepted.
func (s *Service) foreignProvider(c *protocol.Certificate) (string, error) {
	f := s.fed.p.Load()
	if f == nil {
		return "", offpay.Errorf(offpay.EFORBIDDEN, "this ledger is not part of a scheme")
	}
	if c.Role != protocol.RoleDevice {
		return "", invalid("not a device certificate")
	}
	iss, ok := f.issuers[c.Issuer]
	if !ok {
		return "", offpay.Errorf(offpay.EUNAUTHORIZED, "device %v: issuer %v is no provider of the scheme", c.ID(), c.Issuer)
	}
	p := f.owner[c.Issuer]
	if p == f.self {
		return "", invalid("device %v is certified by this provider", c.ID())
	}
	h := sha256.Sum256(c.Marshal())
	f.mu.Lock()
	known := f.verified[h]
	f.mu.Unlock()
	if !known {
		if err := c.VerifyWith(iss.KeyAlg, iss.Key); err != nil {
			return "", offpay.Errorf(offpay.EUNAUTHORIZED, "device certificate %v does not verify: %v", c.ID(), err)
		}
		f.mu.Lock() // a payee's certificate comes with each of its payments
		if len(f.verified) >= maxVerified {
			clear(f.verified)
		}
		f.verified[h] = true
		f.mu.Unlock()
	}
	if c.Currency != s.opts.Currency {
		return "", invalid("device %v holds %s, the scheme %s", c.ID(), c.Currency, s.opts.Currency)
	}
	return p, nil
}

// mirror records the devices of certs (other providers') that this ledger
// does not know, each under its provider's clearing account, in one
// transaction. Certificates that do not verify are skipped: the payments
// that name them are then rejected as from an unknown payer.
func (s *Service) mirror(ctx context.Context, certs map[protocol.KeyID]*protocol.Certificate) error {
	type m struct {
		c *protocol.Certificate
		p string
	}
	var todo []m
	for id, c := range certs {
		if c == nil || c.ID() != id {
			continue
		}
		if p, err := s.foreignProvider(c); err == nil {
			todo = append(todo, m{c, p})
		}
	}
	if len(todo) == 0 {
		return nil
	}
	sort.Slice(todo, func(i, j int) bool { return compareIDs(todo[i].c.ID(), todo[j].c.ID()) < 0 })
	return s.update(ctx, func(tx Tx) error {
		for _, x := range todo {
			if err := s.mirrorTx(ctx, tx, x.c, x.p); err != nil {
				return err
			}
		}
		return nil
	})
}

// mirrorTx records c, a device of provider p, in tx unless it is known.
func (s *Service) mirrorTx(ctx context.Context, tx Tx, c *protocol.Certificate, p string) error {
	have, err := tx.Devices(ctx, []protocol.KeyID{c.ID()})
	if err != nil || have[c.ID()] != nil {
		return err
	}
	name := ForeignAccount(p)
	a, err := tx.Account(ctx, name)
	if err != nil {
		return err
	}
	if a == nil {
		if err := tx.InsertAccount(ctx, &AccountRow{Name: name, CreatedAt: s.now().UnixNano()}); err != nil {
			return err
		}
	}
	return tx.InsertDevice(ctx, &DeviceRow{ID: c.ID(), Account: name, Cert: c.Marshal(), CreatedAt: s.now().UnixNano(), NotAfter: c.NotAfter})
}

// mirrorPayers mirrors the unknown payers of u's receive entries whose
// bundles carry a certificate of another provider, and reads them in.
func (s *Service) mirrorPayers(ctx context.Context, u *upload) error {
	if s.fed.p.Load() == nil {
		return nil
	}
	certs := map[protocol.KeyID]*protocol.Certificate{}
	for i := range u.entries {
		ue := &u.entries[i]
		if ue.e.Kind == protocol.EntryReceive && ue.pay != nil && ue.bcert != nil && u.payers[ue.pay.Payer] == nil {
			certs[ue.pay.Payer] = ue.bcert
		}
	}
	if len(certs) == 0 {
		return nil
	}
	if err := s.mirror(ctx, certs); err != nil {
		return err
	}
	ids := make([]protocol.KeyID, 0, len(certs))
	for id := range certs {
		ids = append(ids, id)
	}
	return s.readPayers(ctx, u, ids)
}

// Obligation is what this ledger has settled between its devices and one
// other provider's, in total since it joined: Owe is the value of its
// payers' payments to that provider's payees (which it owes), Due the
// value of that provider's payers' payments to its payees (owed to it).
type Obligation struct {
	Provider string `json:"provider"`
	Owe      int64  `json:"owe_minor"`
	Due      int64  `json:"due_minor"`
}

// Obligations returns this ledger's obligations with every provider it
// has met, by provider name.
func (s *Service) Obligations(ctx context.Context) ([]Obligation, error) {
	var out []Obligation
	err := s.view(ctx, func(tx Tx) error {
		out = out[:0]
		accts, err := tx.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range accts {
			if !isForeign(a.Name) {
				continue
			}
			devs, err := tx.DevicesOf(ctx, a.Name)
			if err != nil {
				return err
			}
			o := Obligation{Provider: strings.TrimPrefix(a.Name, ForeignPrefix)}
			for i := range devs {
				if o.Owe, err = offpay.AddMinor(o.Owe, devs[i].Received); err != nil {
					return err
				}
				if o.Due, err = offpay.AddMinor(o.Due, devs[i].Sent); err != nil {
					return err
				}
			}
			out = append(out, o)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, err
}

// IssuerSigner is the ledger's issuer key: a provider signs its clearing
// statements to the scheme with it (scheme/schemehttp).
func (s *Service) IssuerSigner() protocol.Signer { return s.keys.IssuerKey }
