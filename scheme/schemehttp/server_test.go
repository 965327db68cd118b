package schemehttp

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/scheme"
)

// TestStatements: a statement counts only when an issuer of the provider
// it names signed it, with that provider's own revocation list; clearing
// needs the administrator token; the scheme's list is the root's.
func TestStatements(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	node, err := scheme.Init(filepath.Join(dir, "s"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*ledger.Keys{}
	for _, n := range []string{"bankA", "bankB"} {
		if keys[n], err = node.AddProvider(n, "", filepath.Join(dir, n), nil); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(node, "secret-token").Handler())
	defer srv.Close()
	c := NewClient(srv.URL)
	reg, err := c.Register(ctx)
	if err != nil || len(reg.Members) != 2 {
		t.Fatalf("register %+v %v", reg, err)
	}
	rl := func(n string, revoked ...protocol.KeyID) *protocol.RevocationList {
		l := &protocol.RevocationList{Version: protocol.Version, Number: 1, Issued: 1, Signer: keys[n].Issuer.ID(), Revoked: revoked}
		if err := l.Sign(keys[n].IssuerKey); err != nil {
			t.Fatal(err)
		}
		return l
	}
	at := time.Now()
	st := func(n string) scheme.Statement {
		at = at.Add(time.Second)
		return scheme.Statement{Provider: n, At: at, Report: &ledger.Report{ConservationOK: true}}
	}
	// bankB signs a statement in bankA's name: refused.
	if err := c.Push(ctx, keys["bankB"].IssuerKey, st("bankA"), rl("bankA")); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("statement signed by another provider: %v", err)
	}
	// bankA's statement carrying bankB's list: refused (it cannot revoke bankB's devices).
	if err := c.Push(ctx, keys["bankA"].IssuerKey, st("bankA"), rl("bankB")); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("another provider's list: %v", err)
	}
	if _, err := c.Clear(ctx, "wrong"); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("clearing with a wrong token: %v", err)
	}
	victim := protocol.KeyID{7}
	if err := c.Push(ctx, keys["bankA"].IssuerKey, st("bankA"), rl("bankA", victim)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clear(ctx, "secret-token"); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("clearing without bankB's statement: %v", err)
	}
	old := st("bankB")
	if err := c.Push(ctx, keys["bankB"].IssuerKey, st("bankB"), rl("bankB")); err != nil {
		t.Fatal(err)
	}
	// An older statement of bankB, signed but replayed (by anyone who saw
	// it go by): refused, the newer one stays.
	if err := c.Push(ctx, keys["bankB"].IssuerKey, old, rl("bankB")); offpay.ErrorCode(err) != offpay.ECONFLICT {
		t.Fatalf("a replayed older statement: %v", err)
	}
	cy, err := c.Clear(ctx, "secret-token")
	if err != nil || !cy.Federation.Holds || cy.Number != 1 {
		t.Fatalf("cycle %+v %v", cy, err)
	}
	list, err := c.RevocationList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	trust, _ := protocol.NewTrust(node.Root())
	if err := trust.VerifyRevocationList(list); err != nil || !list.IsRevoked(victim) || list.Signer != node.Root().ID() {
		t.Fatalf("scheme list: %v revoked %v", err, list.IsRevoked(victim))
	}
}
