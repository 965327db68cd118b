package vse_test

import (
	"errors"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
)

// renewed returns a copy of cur with a new serial, validity and limits,
// signed by p's issuer.
func renewed(p *prototest.PKI, cur *protocol.Certificate, nb, na uint64, lim protocol.Limits) *protocol.Certificate {
	c := *cur
	c.Serial, c.NotBefore, c.NotAfter, c.Limits, c.Issuer = cur.Serial+1000, nb, na, lim, p.Issuer.ID()
	if err := c.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return &c
}

// withRenewal is a sync result at time t carrying c (and rl if not nil).
func withRenewal(p *prototest.PKI, dev protocol.KeyID, acked, t uint64, c *protocol.Certificate, rl *protocol.RevocationList) *protocol.SyncResult {
	r := syncResult(p, dev, acked, t)
	r.Cert = []protocol.Certificate{*c}
	if rl != nil {
		r.RevList = *rl
	}
	if err := r.Sign(p.IssuerKey); err != nil {
		panic(err)
	}
	return r
}

// TestSyncInstallsRenewal: a renewed certificate in a sync result is
// installed with the rest of the result, its limits bind at once (per
// payment, offline days) and it survives a reopen.
func TestSyncInstallsRenewal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	cur := f.a.Certificate()
	lim := cur.Limits
	lim.PerPayment, lim.Holding, lim.MaxOfflineDays = 100, 3000, 2
	c := renewed(f.pki, cur, now, now+prototest.Year, lim)
	st := status(t, f.a)
	if err := f.a.ApplySyncResult(withRenewal(f.pki, f.a.ID(), st.Counter, now+60, c, nil)); err != nil {
		t.Fatal(err)
	}
	st = status(t, f.a)
	if got := f.a.Certificate(); got.Serial != c.Serial || st.Limits != lim || st.CertNotAfter != c.NotAfter {
		t.Fatalf("installed serial %d, limits %+v, not after %d", got.Serial, st.Limits, st.CertNotAfter)
	}
	if st.Deadline != now+60+2*day || st.HoldingLeft != 0 {
		t.Fatalf("deadline %d, holding left %d", st.Deadline, st.HoldingLeft)
	}
	refused(t, se.ErrLimit, func() error {
		_, err := f.a.Pay(request(t, f.b, 150), 0, now+61)
		return err
	}, f.a, f.b)
	b := pay(t, f.a, f.b, 100)
	if b.Cert.Serial != c.Serial {
		t.Fatalf("bundle carries certificate serial %d", b.Cert.Serial)
	}
	// The same result again (a resend) is harmless.
	if err := f.a.ApplySyncResult(withRenewal(f.pki, f.a.ID(), st.Counter, now+60, c, nil)); err != nil {
		t.Fatal(err)
	}
	reopened := setest.Open(t, f.dirA, nil)
	if got := reopened.Certificate(); got.Serial != c.Serial || got.Limits != lim {
		t.Fatalf("after reopen: serial %d limits %+v", got.Serial, got.Limits)
	}
}

// TestSyncRefusesBadRenewal: a result whose renewal is for another key,
// from an untrusted issuer, expired or not yet valid at the result's time,
// revoked, for another account, or older than the installed certificate
// is refused whole (CodeBadSync) and changes nothing: not the certificate,
// not the loads, not the log.
func TestSyncRefusesBadRenewal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.load(t, f.a, 5000)
	cur := f.a.Certificate()
	lim := cur.Limits
	lim.PerPayment = 100
	rogue := prototest.NewPKI("rogue")
	acked := status(t, f.a).Counter
	load := *f.pki.Load(f.a.ID(), 2, 100, now)
	other := *cur
	other.Account = "mallory"
	cases := map[string]*protocol.SyncResult{
		"other key":        withRenewal(f.pki, f.a.ID(), acked, now+60, renewed(f.pki, f.b.Certificate(), now, now+prototest.Year, lim), nil),
		"untrusted issuer": withRenewal(f.pki, f.a.ID(), acked, now+60, renewed(rogue, cur, now, now+prototest.Year, lim), nil),
		"expired":          withRenewal(f.pki, f.a.ID(), acked, now+60, renewed(f.pki, cur, now, now+60, lim), nil),
		"not yet valid":    withRenewal(f.pki, f.a.ID(), acked, now+60, renewed(f.pki, cur, now+61, now+prototest.Year, lim), nil),
		"older":            withRenewal(f.pki, f.a.ID(), acked, now+60, renewed(f.pki, cur, cur.NotBefore-1, now+prototest.Year, lim), nil),
		"other account":    withRenewal(f.pki, f.a.ID(), acked, now+60, renewed(f.pki, &other, now, now+prototest.Year, lim), nil),
	}
	pki2 := prototest.NewPKI("vse") // same keys: its list 2 revokes a
	pki2.Revoke(now + 30)
	revoked := pki2.Revoke(now+30, f.a.ID())
	cases["revoked by the result's list"] = withRenewal(f.pki, f.a.ID(), acked, now+60, renewed(f.pki, cur, now, now+prototest.Year, lim), revoked)
	for name, r := range cases {
		r.Loads = []protocol.Load{load}
		if err := r.Sign(f.pki.IssuerKey); err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			refused(t, se.ErrBadSync, func() error { return f.a.ApplySyncResult(r) }, f.a)
			if got := f.a.Certificate(); got.Serial != cur.Serial {
				t.Fatalf("certificate changed to serial %d", got.Serial)
			}
		})
	}
	reopened := setest.Open(t, f.dirA, nil)
	if got := reopened.Certificate(); got.Serial != cur.Serial {
		t.Fatalf("after reopen: serial %d", got.Serial)
	}
	if err := f.a.ApplySyncResult(syncResult(f.pki, f.a.ID(), acked, now+60, load)); err != nil {
		t.Fatalf("a good result after the refusals: %v", err)
	}
	if !errors.Is(f.a.ApplySyncResult(withRenewal(f.pki, f.a.ID(), acked, now+70, renewed(rogue, cur, now, now+prototest.Year, lim), nil)), se.ErrBadSync) {
		t.Fatal("untrusted renewal accepted after a good result")
	}
}
