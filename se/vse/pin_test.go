package vse_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// TestKDFFloor: Create refuses PIN-key parameters below vse.MinKDF (the
// finding: --kdf-memory 1 --kdf-time 1 made a guess cost 0.8 ms), whatever
// the caller asks, unless it holds the tests' escape, which only se/setest
// hands out. Nothing is written for a refused SE.
func TestKDFFloor(t *testing.T) {
	for _, k := range []vse.KDF{
		{Time: 1, Memory: 1024, Threads: 1},
		{Time: 1, Memory: 64 * 1024, Threads: 2},
		{Time: 3, Memory: 63 * 1024, Threads: 4},
		{Time: 64, Memory: 8 * 1024, Threads: 1},
	} {
		dir := filepath.Join(t.TempDir(), "se")
		_, err := vse.Create(dir, setest.PIN, &vse.Options{KDF: k})
		if !errors.Is(err, vse.ErrKDFBelowFloor) {
			t.Fatalf("%+v: %v", k, err)
		}
		if _, err := os.Stat(filepath.Join(dir, vse.StateFile)); err == nil {
			t.Fatalf("%+v: a refused SE left a state file", k)
		}
	}
	// The escape: the same weak parameters through setest.
	if _, err := vse.Create(filepath.Join(t.TempDir(), "se"), setest.PIN, setest.Options(&vse.Options{KDF: vse.KDF{Time: 1, Memory: 1024, Threads: 1}})); err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		return
	}
	// At the floor it is accepted.
	if _, err := vse.Create(filepath.Join(t.TempDir(), "se"), setest.PIN, &vse.Options{KDF: vse.MinKDF}); err != nil {
		t.Fatal(err)
	}
}

// TestNoProductionPackageImportsSetest: the KDF escape lives in an
// internal package that only packages under se/ can import, and of those
// only the virtual SE (which checks it), se/setest (which hands it out to
// tests) and se/simse (which hands it out to the simulator) do; only
// internal/sim imports se/simse, and the offpay binary does not depend on
// se/setest, so no wallet, terminal or ledger code can reach the escape.
func TestNoProductionPackageImportsSetest(t *testing.T) {
	const (
		escape    = "github.com/offpay/offpay/se/internal/kdfescape"
		setestPkg = "github.com/offpay/offpay/se/setest"
		simsePkg  = "github.com/offpay/offpay/se/simse"
		simPkg    = "github.com/offpay/offpay/internal/sim"
	)
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Imports " "}}`, "github.com/offpay/offpay/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		pkg, imports, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		for _, d := range strings.Fields(imports) {
			if d == escape && pkg != setestPkg && pkg != simsePkg && pkg != "github.com/offpay/offpay/se/vse" {
				t.Errorf("%s imports the KDF escape", pkg)
			}
			if d == simsePkg && pkg != simPkg {
				t.Errorf("%s imports %s, which only the simulator may", pkg, simsePkg)
			}
		}
	}
	deps, err := exec.Command("go", "list", "-deps", "github.com/offpay/offpay/cmd/offpay").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range strings.Fields(string(deps)) {
		if d == setestPkg {
			t.Errorf("the offpay binary depends on %s", setestPkg)
		}
	}
}

// TestPINPolicy: the certificate carries the issuer's PIN minimum and the
// SE enforces it: it refuses to install a certificate asking more
// characters than its PIN has (changing nothing), and after a renewal
// raises the minimum it refuses to pay until opened with a long enough
// PIN, while it still receives and syncs. Create refuses PINs below 4.
func TestPINPolicy(t *testing.T) {
	p := prototest.NewPKI("pin")
	short := "12345"
	if _, err := vse.Create(filepath.Join(t.TempDir(), "x"), "123", setest.Options(nil)); !errors.Is(err, se.ErrWeakPIN) {
		t.Fatalf("a 3-character PIN: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "a")
	v, err := vse.Create(dir, short, setest.Options(nil))
	if err != nil {
		t.Fatal(err)
	}
	req, err := v.Enrol("alice", now)
	if err != nil {
		t.Fatal(err)
	}
	lim := p.Limits // MinPIN 6
	if err := v.Install(setest.Certify(p, req, 1, lim), setest.Anchors(p), p.RevList); !errors.Is(err, se.ErrWeakPIN) {
		t.Fatalf("a 5-character PIN under a policy of 6: %v", err)
	}
	if v.Certificate() != nil {
		t.Fatal("the refused certificate was installed")
	}
	lim.MinPIN = 5
	if err := v.Install(setest.Certify(p, req, 2, lim), setest.Anchors(p), p.RevList); err != nil {
		t.Fatal(err)
	}
	if err := v.ApplyLoad(p.Load(v.ID(), 1, 5000, now)); err != nil {
		t.Fatal(err)
	}
	b := setest.New(t, p, filepath.Join(t.TempDir(), "b"), "bob", 3, nil)
	if _, err := v.Pay(request(t, b, 100), 0, now); err != nil {
		t.Fatal(err)
	}
	// The operator raises the minimum to 6: a renewal at sync.
	lim.MinPIN = 6
	c := renewed(p, v.Certificate(), now, now+prototest.Year, lim)
	if err := v.ApplySyncResult(withRenewal(p, v.ID(), status(t, v).Counter, now+60, c, nil)); err != nil {
		t.Fatal(err)
	}
	refused(t, se.ErrWeakPIN, func() error {
		_, err := v.Pay(request(t, b, 100), 0, now+61)
		return err
	}, v)
	// It still receives.
	if _, err := b.ApplyLoad(p.Load(b.ID(), 1, 1000, now)), error(nil); err != nil {
		t.Fatal(err)
	}
	r, err := v.NewRequest(se.RequestParams{Amount: 50, Expiry: now + 300}, now+61)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := b.Pay(r, 0, now+61)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Receive(bundle, now+61); err != nil {
		t.Fatalf("a weak-PIN SE must still receive: %v", err)
	}
	if st := status(t, v); st.Limits.MinPIN != 6 {
		t.Fatalf("installed MinPIN %d", st.Limits.MinPIN)
	}
	_ = protocol.Version
}
