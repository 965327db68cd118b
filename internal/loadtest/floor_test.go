package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/bench"
	"github.com/offpay/offpay/protocol"
)

// TestFloorVerifiesEverything: the floor's rate is a bound on what any
// ledger could answer only if it does the work every ledger must. It
// answers each device of an offline fleet with a signed result
// acknowledging its whole log, and refuses the upload when any one of the
// signatures a ledger checks does not verify under the key it should:
// the device's on the request, a load's issuer's, a payer's on a payment
// received.
func TestFloorVerifiesEverything(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := start(ctx, t.TempDir(), "", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	fleet, err := bench.NewOfflineFleet(ctx, bench.ServiceAdmin{Service: l.svc}, "EUR", 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	ups := fleet.Rounds[0]
	f, err := newFloor(ctx, l, ups)
	if err != nil {
		t.Fatal(err)
	}
	_, issuer := l.svc.Trust()
	for _, up := range ups {
		res, err := f.sync(protocol.Seal(up))
		if err != nil {
			t.Fatal(err)
		}
		if res.Acked != lastEntry(up) || res.Verify(issuer) != nil {
			t.Fatalf("acknowledged %d of %d, or not signed by the ledger", res.Acked, lastEntry(up))
		}
	}
	up, other := ups[0], f.certs[ups[1].Device]
	var kinds = map[protocol.EntryKind]bool{}
	for _, e := range up.Entries {
		kinds[e.Kind] = true
	}
	if !kinds[protocol.EntryLoad] || !kinds[protocol.EntryReceive] {
		t.Fatalf("the upload lacks a kind of entry the test needs: %v", kinds)
	}
	for name, wrong := range map[string]func(*floorServer){
		"the device's key": func(g *floorServer) { g.certs[up.Device] = other },
		"the issuer's key": func(g *floorServer) { g.issuer = other },
		"the payers' keys": func(g *floorServer) {
			for _, u := range ups[1:] {
				g.certs[u.Device] = f.certs[up.Device]
			}
		},
	} {
		g := floorServer{issuer: f.issuer, signer: f.signer, rev: f.rev}
		g.certs = map[protocol.KeyID]*protocol.Certificate{}
		for k, v := range f.certs {
			g.certs[k] = v
		}
		wrong(&g)
		if _, err := g.sync(protocol.Seal(up)); err == nil {
			t.Errorf("%s replaced: the upload was answered", name)
		}
	}
	body := protocol.Seal(up)
	body[len(body)-1] ^= 1
	if _, err := f.sync(body); err == nil {
		t.Error("a request whose signature was changed was answered")
	}
}
