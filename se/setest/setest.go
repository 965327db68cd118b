// Package setest builds enrolled virtual SEs on a deterministic PKI for tests; it is never used in production.
package setest

import (
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/internal/kdfescape"
	"github.com/offpay/offpay/se/vse"
)

// PIN is the PIN of every test SE.
const PIN = "246810"

// FastKDF keeps tests quick; production uses vse.DefaultKDF.
var FastKDF = vse.KDF{Time: 1, Memory: 1024, Threads: 1}

// Certify issues a device certificate for an enrolment request, signed by
// the PKI's issuer, with limits lim.
func Certify(p *prototest.PKI, r *protocol.EnrolmentRequest, serial uint64, lim protocol.Limits) *protocol.Certificate {
	return CertifyNamed(p, r, serial, lim, "")
}

// CertifyNamed is Certify for a merchant's device certified with name
// (empty: a person's).
func CertifyNamed(p *prototest.PKI, r *protocol.EnrolmentRequest, serial uint64, lim protocol.Limits, name string) *protocol.Certificate {
	if err := r.Verify(); err != nil {
		panic(err)
	}
	c := &protocol.Certificate{
		Version: protocol.Version, Role: protocol.RoleDevice, Serial: serial, Issuer: p.Issuer.ID(),
		KeyAlg: r.KeyAlg, Key: r.Key, NotBefore: p.NotBefore, NotAfter: p.NotAfter,
		Account: r.Account, Class: r.Class, Currency: p.Currency, Limits: lim, Name: name,
	}
	if err := c.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return c
}

// Anchors are the PKI's root and issuer.
func Anchors(p *prototest.PKI) se.Anchors {
	return se.Anchors{Roots: []*protocol.Certificate{p.Root}, Issuers: []*protocol.Certificate{p.Issuer}}
}

// New creates a virtual SE in dir, enrols it for account with the PKI's
// limits and installs the PKI's current revocation list.
func New(t testing.TB, p *prototest.PKI, dir, account string, serial uint64, o *vse.Options) *vse.VSE {
	t.Helper()
	return NewWith(t, p, dir, account, serial, p.Limits, o)
}

// NewWith is New with the certificate's limits lim (PerPayment 0 makes a
// receive-only merchant device).
func NewWith(t testing.TB, p *prototest.PKI, dir, account string, serial uint64, lim protocol.Limits, o *vse.Options) *vse.VSE {
	t.Helper()
	return NewMerchant(t, p, dir, account, "", serial, lim, o)
}

// NewMerchant is NewWith for a merchant's device certified with name
// (empty: a person's device).
func NewMerchant(t testing.TB, p *prototest.PKI, dir, account, name string, serial uint64, lim protocol.Limits, o *vse.Options) *vse.VSE {
	t.Helper()
	oo := Options(o)
	v, err := vse.Create(dir, PIN, oo)
	if err != nil {
		t.Fatal(err)
	}
	req, err := v.Enrol(account, p.RevList.Issued)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Install(CertifyNamed(p, req, serial, lim, name), Anchors(p), p.RevList); err != nil {
		t.Fatal(err)
	}
	return v
}

// Options returns o (or a fresh one) with FastKDF set, and the escape
// that lets a test SE go below vse.MinKDF.
func Options(o *vse.Options) *vse.Options {
	x := vse.Options{}
	if o != nil {
		x = *o
	}
	if x.KDF == (vse.KDF{}) {
		x.KDF = FastKDF
	}
	x.BelowFloorForTests = kdfescape.Get()
	return &x
}

// Open reopens the SE in dir with the test PIN.
func Open(t testing.TB, dir string, o *vse.Options) *vse.VSE {
	t.Helper()
	v, err := vse.Open(dir, PIN, Options(o))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
