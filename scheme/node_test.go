package scheme

import (
	"path/filepath"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// TestRotateProvider: a provider's new issuer is certified by the root
// and listed beside the old one, which still verifies the devices it
// certified; a key folder of another provider is refused; a name is
// admitted once; the register survives reopening.
func TestRotateProvider(t *testing.T) {
	dir := t.TempDir()
	n, err := Init(filepath.Join(dir, "s"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := n.AddProvider("bankA", "", filepath.Join(dir, "a"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddProvider("bankB", "", filepath.Join(dir, "b"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddProvider("bankA", "", filepath.Join(dir, "a2"), nil); offpay.ErrorCode(err) != offpay.ECONFLICT {
		t.Fatalf("admitted twice: %v", err)
	}
	if _, err := n.RotateProvider("bankA", filepath.Join(dir, "b"), nil); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("rotated bankA with bankB's keys: %v", err)
	}
	c, err := n.RotateProvider("bankA", filepath.Join(dir, "a"), nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Open(filepath.Join(dir, "s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := again.Register().Member("bankA")
	certs, err := m.Certs()
	if err != nil || len(certs) != 2 || certs[0].ID() != a.Issuer.ID() || certs[1].ID() != c.ID() {
		t.Fatalf("bankA's issuers after rotation: %v %v", certs, err)
	}
	keys, err := ledger.LoadKeys(filepath.Join(dir, "a"), nil)
	if err != nil || keys.Issuer.ID() != c.ID() || len(keys.Retired) != 1 {
		t.Fatalf("bankA's keys: %v %v", keys, err)
	}
	trust, err := protocol.NewTrust(again.Root())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs {
		if err := trust.AddIssuer(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := again.SetSuspended("nobody", true); offpay.ErrorCode(err) != offpay.ENOTFOUND {
		t.Fatalf("suspending a stranger: %v", err)
	}
}
