package ledger_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

func code(t *testing.T, err error, want offpay.Code) {
	t.Helper()
	var e *offpay.Error
	if !errors.As(err, &e) || e.Code != want {
		t.Fatalf("got %v, want code %s", err, want)
	}
}

func TestInitLoadKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k, err := ledger.Init(dir, "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Fatalf("%d files", len(entries))
	}
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v", e.Name(), fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v", fi.Mode().Perm())
	}
	l, err := ledger.LoadKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Currency != "EUR" || !bytes.Equal(l.IssuerKey.PublicKey(), k.IssuerKey.PublicKey()) || l.Root.ID() != k.Root.ID() {
		t.Fatalf("loaded keys differ")
	}
	trust, err := protocol.NewTrust(l.Root)
	if err != nil || trust.AddIssuer(l.Issuer) != nil {
		t.Fatalf("loaded certificates do not chain: %v", err)
	}
	_, err = ledger.Init(dir, "EUR", nil)
	code(t, err, offpay.ECONFLICT)
	_, err = ledger.Init(filepath.Join(t.TempDir(), "x"), "euro!", nil)
	code(t, err, offpay.EINVALID)
	_, err = ledger.LoadKeys(filepath.Join(t.TempDir(), "none"), nil)
	code(t, err, offpay.ENOTFOUND)
}

func TestKeysPassphrase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k, err := ledger.Init(dir, "KES", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "issuer.key"))
	seed := k.IssuerKey.(protocol.Ed25519Signer).Key.Seed()
	if bytes.Contains(raw, seed) || bytes.Contains(raw, []byte(`"seed"`)) {
		t.Fatal("encrypted key file holds the seed in the clear")
	}
	if _, err := ledger.LoadKeys(dir, []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	_, err = ledger.LoadKeys(dir, []byte("wrong"))
	code(t, err, offpay.EUNAUTHORIZED)
	_, err = ledger.LoadKeys(dir, nil)
	code(t, err, offpay.EUNAUTHORIZED)
}

func TestLoadKeysRefusesMismatch(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a")
	b := filepath.Join(t.TempDir(), "b")
	if _, err := ledger.Init(a, "EUR", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Init(b, "EUR", nil); err != nil {
		t.Fatal(err)
	}
	// An issuer key from another PKI must not load against a's certificates.
	other, _ := os.ReadFile(filepath.Join(b, "issuer.key"))
	if err := os.WriteFile(filepath.Join(a, "issuer.key"), other, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ledger.LoadKeys(a, nil)
	code(t, err, offpay.EINVALID)
	// An issuer certificate from another root does not chain.
	cert, _ := os.ReadFile(filepath.Join(b, "issuer.cert"))
	os.WriteFile(filepath.Join(a, "issuer.cert"), cert, 0o600)
	_, err = ledger.LoadKeys(a, nil)
	code(t, err, offpay.EINVALID)
}

// TestRootKeyStaysOffline: init writes the root key to a file of its own,
// outside the keys folder, and nothing the serving ledger loads holds it:
// LoadKeys works with that file gone, and no file of the keys folder
// contains the root's seed (the finding: root.key beside issuer.key,
// loaded by every ledger serve).
func TestRootKeyStaysOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	rootFile := filepath.Join(t.TempDir(), "offline", "root.key")
	if err := os.MkdirAll(filepath.Dir(rootFile), 0o700); err != nil {
		t.Fatal(err)
	}
	k, err := ledger.InitWith(dir, "EUR", ledger.InitOptions{RootKeyFile: rootFile, RootPassphrase: []byte("offline")})
	if err != nil {
		t.Fatal(err)
	}
	root, err := ledger.LoadRootKey(dir, rootFile, []byte("offline"))
	if err != nil {
		t.Fatal(err)
	}
	seed := root.(protocol.Ed25519Signer).Key.Seed()
	if raw, _ := os.ReadFile(rootFile); bytes.Contains(raw, seed) {
		t.Fatal("the root key file is not encrypted under its passphrase")
	}
	if fi, _ := os.Stat(rootFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("root key file mode %v", fi.Mode().Perm())
	}
	_, err = ledger.LoadRootKey(dir, rootFile, []byte("wrong"))
	code(t, err, offpay.EUNAUTHORIZED)
	if err := os.Remove(rootFile); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.LoadKeys(dir, nil)
	if err != nil {
		t.Fatalf("serving needs the root key: %v", err)
	}
	if l.Issuer.ID() != k.Issuer.ID() || l.Root.ID() != k.Root.ID() {
		t.Fatal("loaded keys differ")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(b, seed) {
			t.Fatalf("%s holds the root key", e.Name())
		}
		if e.Name() == "root.key" {
			t.Fatal("root.key in the keys folder")
		}
	}
	_, err = ledger.InitWith(filepath.Join(t.TempDir(), "k2"), "EUR", ledger.InitOptions{RootKeyFile: filepath.Join(dir, "issuer.key")})
	code(t, err, offpay.ECONFLICT)
}

// TestRotateIssuer: the root certifies a new issuer; the old certificate
// is kept (retired) so its devices and loads still verify, its key is
// gone; a root key of another PKI is refused, changing nothing; a
// rotation interrupted after the new key moved in is finished by the next
// call.
func TestRotateIssuer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	rootFile := filepath.Join(t.TempDir(), "root.key")
	k, err := ledger.InitWith(dir, "EUR", ledger.InitOptions{RootKeyFile: rootFile, Passphrase: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other")
	otherRoot := filepath.Join(t.TempDir(), "other-root.key")
	if _, err := ledger.InitWith(other, "EUR", ledger.InitOptions{RootKeyFile: otherRoot}); err != nil {
		t.Fatal(err)
	}
	wrong, err := ledger.LoadRootKey(other, otherRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ledger.LoadRootKey(dir, otherRoot, nil)
	code(t, err, offpay.EINVALID)
	_, err = ledger.RotateIssuer(dir, wrong, []byte("p"))
	code(t, err, offpay.EINVALID)
	if l, err := ledger.LoadKeys(dir, []byte("p")); err != nil || l.Issuer.ID() != k.Issuer.ID() || len(l.Retired) != 0 {
		t.Fatalf("a refused rotation changed the keys: %v", err)
	}
	root, err := ledger.LoadRootKey(dir, rootFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledger.RotateIssuer(dir, root, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.LoadKeys(dir, []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Issuer.ID() != c.ID() || c.ID() == k.Issuer.ID() || len(l.Retired) != 1 || l.Retired[0].ID() != k.Issuer.ID() {
		t.Fatalf("after rotation: issuer %v retired %v", l.Issuer.ID(), l.Retired)
	}
	trust, err := protocol.NewTrust(l.Root)
	if err != nil || trust.AddIssuer(l.Issuer) != nil {
		t.Fatal("new issuer does not chain")
	}
	seed := k.IssuerKey.(protocol.Ed25519Signer).Key.Seed()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if b, _ := os.ReadFile(p); !d.IsDir() && bytes.Contains(b, seed) {
			t.Errorf("%s still holds the old issuer key", p)
		}
		return nil
	})

	// Interrupted: the next issuer's key moved in, its certificate did not.
	if err := os.Rename(filepath.Join(dir, "issuer.cert"), filepath.Join(dir, "issuer.cert.next")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "issuer.cert"), l.Retired[0].Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.LoadKeys(dir, []byte("p")); err == nil {
		t.Fatal("a half-done rotation loads")
	}
	c2, err := ledger.RotateIssuer(dir, root, []byte("p"))
	if err != nil || c2.ID() != c.ID() {
		t.Fatalf("finishing the rotation: %v", err)
	}
	if _, err := ledger.LoadKeys(dir, []byte("p")); err != nil {
		t.Fatal(err)
	}
}

// Keys held elsewhere (a PKCS#11 token in production; in-process signers
// here): InitSigners writes certificates and no key file, LoadKeysWith
// takes the issuer key back and refuses another key.
func TestInitSignersLoadKeysWith(t *testing.T) {
	for _, mk := range []func() protocol.Signer{
		func() protocol.Signer { return protocol.NewEd25519Signer() },
		func() protocol.Signer { return protocol.NewP256Signer() },
	} {
		root, issuer := mk(), mk()
		dir := filepath.Join(t.TempDir(), "keys")
		k, err := ledger.InitSigners(dir, "EUR", root, issuer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "issuer.key")); err == nil {
			t.Fatal("InitSigners wrote a key file")
		}
		if _, err := ledger.InitSigners(dir, "EUR", root, issuer); offpay.ErrorCode(err) != offpay.ECONFLICT {
			t.Fatalf("second init: %v", err)
		}
		l, err := ledger.LoadKeysWith(dir, issuer)
		if err != nil {
			t.Fatal(err)
		}
		if l.Issuer.ID() != k.Issuer.ID() || l.Root.ID() != k.Root.ID() || l.Root.KeyAlg != root.Alg() {
			t.Fatal("loaded other certificates")
		}
		if _, err := ledger.LoadKeysWith(dir, mk()); offpay.ErrorCode(err) != offpay.EINVALID {
			t.Fatalf("another issuer key: %v", err)
		}
		if _, err := ledger.LoadKeysWith(dir, root); offpay.ErrorCode(err) != offpay.EINVALID {
			t.Fatalf("the root key as issuer: %v", err)
		}
		if _, err := ledger.LoadKeys(dir, nil); offpay.ErrorCode(err) != offpay.ENOTFOUND {
			t.Fatalf("LoadKeys without a key file: %v", err)
		}
	}
}

// RotateIssuerWith: a commit that fails keeps the old issuer; a rotation
// interrupted after its commit is finished by LoadKeysWith with the new
// key; a wrong root key is refused.
func TestRotateIssuerWith(t *testing.T) {
	root, issuer := protocol.NewP256Signer(), protocol.NewP256Signer()
	dir := filepath.Join(t.TempDir(), "keys")
	k, err := ledger.InitSigners(dir, "EUR", root, issuer)
	if err != nil {
		t.Fatal(err)
	}
	next := protocol.NewP256Signer()
	if _, err := ledger.RotateIssuerWith(dir, protocol.NewP256Signer(), next, func() error { return nil }); offpay.ErrorCode(err) != offpay.EINVALID {
		t.Fatalf("a wrong root key: %v", err)
	}
	if _, err := ledger.RotateIssuerWith(dir, root, next, func() error { return errors.New("disk full") }); err == nil {
		t.Fatal("a failed commit rotated")
	}
	if l, err := ledger.LoadKeysWith(dir, issuer); err != nil || l.Issuer.ID() != k.Issuer.ID() {
		t.Fatalf("after a failed commit: %v", err)
	}
	c, err := ledger.RotateIssuerWith(dir, root, next, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.LoadKeysWith(dir, next)
	if err != nil || l.Issuer.ID() != c.ID() || len(l.Retired) != 1 || l.Retired[0].ID() != k.Issuer.ID() {
		t.Fatalf("after rotation: %v", err)
	}
	if _, err := ledger.LoadKeysWith(dir, issuer); err == nil {
		t.Fatal("the old issuer key still loads")
	}
	// Interrupted between the commit and the rename (the process died
	// after recording the new key): LoadKeysWith with that key finishes it.
	fourth := protocol.NewP256Signer()
	var saved []byte
	_, err = ledger.RotateIssuerWith(dir, root, fourth, func() error {
		var err error
		saved, err = os.ReadFile(filepath.Join(dir, "issuer.cert.next"))
		if err != nil {
			return err
		}
		return errors.New("crash")
	})
	if err == nil {
		t.Fatal("no crash")
	}
	if err := os.WriteFile(filepath.Join(dir, "issuer.cert.next"), saved, 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := ledger.LoadKeysWith(dir, fourth); err != nil || string(l.Issuer.Key) != string(fourth.PublicKey()) {
		t.Fatalf("the interrupted rotation was not finished: %v", err)
	}
}
