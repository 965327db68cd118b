package scheme

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Member is a provider in the register.
type Member struct {
	Name string `json:"name"`
	// URL is where the provider's ledger serves (its revocation list,
	// its obligations); empty if the scheme does not fetch from it.
	URL string `json:"url,omitempty"`
	// Issuers are the canonical encodings of the issuer certificates the
	// root signed for it, oldest first (a rotation appends one).
	Issuers   [][]byte  `json:"issuers"`
	Suspended bool      `json:"suspended,omitempty"`
	Added     time.Time `json:"added"`
}

// Register is the scheme's list of providers, as published.
type Register struct {
	Currency string   `json:"currency"`
	Root     []byte   `json:"root"` // the root certificate's canonical encoding
	Members  []Member `json:"members"`
}

const registerFile = "register.json"

// Certs decodes m's issuer certificates.
func (m *Member) Certs() ([]*protocol.Certificate, error) {
	out := make([]*protocol.Certificate, len(m.Issuers))
	for i, b := range m.Issuers {
		c := new(protocol.Certificate)
		if err := protocol.Unmarshal(b, c); err != nil {
			return nil, offpay.Errorf(offpay.EINVALID, "issuer %d of %s: %v", i, m.Name, err)
		}
		out[i] = c
	}
	return out, nil
}

// Member returns the member named name, or nil.
func (r *Register) Member(name string) *Member {
	for i := range r.Members {
		if r.Members[i].Name == name {
			return &r.Members[i]
		}
	}
	return nil
}

// RootCert decodes the root certificate.
func (r *Register) RootCert() (*protocol.Certificate, error) {
	c := new(protocol.Certificate)
	if err := protocol.Unmarshal(r.Root, c); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "root: %v", err)
	}
	return c, nil
}

// Verify checks that every issuer chains to the root and that no issuer
// is listed twice.
func (r *Register) Verify() error {
	root, err := r.RootCert()
	if err != nil {
		return err
	}
	t, err := protocol.NewTrust(root)
	if err != nil {
		return offpay.Errorf(offpay.EINVALID, "root: %v", err)
	}
	seen := map[protocol.KeyID]string{}
	for i := range r.Members {
		m := &r.Members[i]
		cs, err := m.Certs()
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := t.AddIssuer(c); err != nil {
				return offpay.Errorf(offpay.EINVALID, "issuer %v of %s: %v", c.ID(), m.Name, err)
			}
			if o, dup := seen[c.ID()]; dup {
				return offpay.Errorf(offpay.EINVALID, "issuer %v listed for %s and %s", c.ID(), o, m.Name)
			}
			seen[c.ID()] = m.Name
		}
	}
	return nil
}

// Federation is the register as ledger self holds it
// (ledger.Service.SetFederation).
func (r *Register) Federation(self string) (ledger.Federation, error) {
	f := ledger.Federation{Self: self}
	for i := range r.Members {
		cs, err := r.Members[i].Certs()
		if err != nil {
			return f, err
		}
		f.Providers = append(f.Providers, ledger.Provider{Name: r.Members[i].Name, Issuers: cs, Suspended: r.Members[i].Suspended})
	}
	return f, nil
}

// Issuers returns every issuer certificate in the register, for devices
// to install beside their own (se.Anchors.Issuers): a payee then verifies
// a payer of any provider offline, through the root it pinned.
func (r *Register) Issuers() ([]*protocol.Certificate, error) {
	var out []*protocol.Certificate
	for i := range r.Members {
		cs, err := r.Members[i].Certs()
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// ReadRegister reads dir's register.
func ReadRegister(dir string) (*Register, error) {
	b, err := os.ReadFile(filepath.Join(dir, registerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, offpay.Errorf(offpay.ENOTFOUND, "no scheme in %s (offpay scheme init)", dir)
	}
	if err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "reading register: %w", err)
	}
	r := new(Register)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "register: %v", err)
	}
	return r, r.Verify()
}

// writeJSON writes v to dir/name through a temporary file and a rename.
func writeJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "encoding %s: %w", name, err)
	}
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.Write(append(b, '\n'))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "writing %s: %w", name, err)
	}
	return nil
}

func sortMembers(ms []Member) { sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name }) }
