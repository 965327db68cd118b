package fedtest

import (
	"testing"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// TestSchemeRevocationList: the scheme merges its providers' lists into
// one signed by the root, which devices of every provider install and
// verify through the root they pinned: a payee at bankB then refuses a
// payer bankA revoked, and every payer of a suspended provider. A list
// given in another provider's name is refused.
func TestSchemeRevocationList(t *testing.T) {
	f := newFed(t, "bankA", "bankB", "bankC")
	alice := f.wallet("bankA", "alice", false, 100000, 20000)
	erin := f.wallet("bankA", "erin", false, 100000, 20000)
	carol := f.wallet("bankC", "carol", false, 100000, 20000)
	bob := f.wallet("bankB", "bob", false, 0, 0)
	pay(t, carol, bob, 10) // verified through the root before any revocation
	if err := f.ps["bankA"].svc.Revoke(ctx, alice.w.SE().Certificate().ID(), "reported stolen"); err != nil {
		t.Fatal(err)
	}
	lists := map[string]*protocol.RevocationList{}
	for n, p := range f.ps {
		rl, err := p.svc.RevocationList(ctx)
		if err != nil {
			t.Fatal(err)
		}
		lists[n] = rl
	}
	bogus := map[string]*protocol.RevocationList{"bankA": lists["bankB"]}
	if _, err := f.node.RevocationList(bogus); offpay.ErrorCode(err) != offpay.EUNAUTHORIZED {
		t.Fatalf("bankB's list taken as bankA's: %v", err)
	}
	if err := f.node.SetSuspended("bankC", true); err != nil {
		t.Fatal(err)
	}
	rl, err := f.node.RevocationList(lists)
	if err != nil {
		t.Fatal(err)
	}
	if !rl.IsRevoked(alice.w.SE().Certificate().ID()) || rl.IsRevoked(erin.w.SE().Certificate().ID()) {
		t.Fatal("merged list is wrong about bankA's devices")
	}
	if err := bob.w.SE().Install(bob.w.SE().Certificate(), se.Anchors{}, rl); err != nil {
		t.Fatalf("bob's SE refused the scheme's list: %v", err)
	}
	refuse := func(from *member, why string) {
		t.Helper()
		req, err := bob.w.Request(50, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, err := from.w.Pay(req, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.w.Accept(b); err == nil {
			t.Fatalf("bob accepted a payment from %s (%s)", from.name, why)
		}
	}
	refuse(alice, "revoked by bankA")
	refuse(carol, "bankC suspended")
	pay(t, erin, bob, 50) // bankA's other devices still pay
}
