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
	if len(entries) != 5 {
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
