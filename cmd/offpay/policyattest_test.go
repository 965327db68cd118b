package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay/protocol"
)

// TestPolicyFileAttestation: the policy file's classes and manufacturers
// reach ledger.Policy (card limits over the class-1 ones, the TEST key
// marked test), and bad entries are refused by name (ledger's
// TestPolicyRefusesTestManufacturer: the TEST key without "test").
func TestPolicyFileAttestation(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "policy.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	testKey := hex.EncodeToString(protocol.TestManufacturerKey)
	p, err := readPolicy(write(`{"person": {"holding_minor": 10000}, "classes": {"2": {"person": {"holding_minor": 90000}}},
		"manufacturers": [{"name": "TEST", "key_alg": "ed25519", "key_hex": "` + testKey + `", "classes": [2], "test": true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	card := p.Classes[protocol.SESmartCard]
	if p.Person.Holding != 10000 || card.Person.Holding != 90000 || card.Person.PerPayment != p.Person.PerPayment ||
		card.Merchant != p.Merchant || len(p.Manufacturers) != 1 || !p.TrustsTestManufacturer() {
		t.Fatalf("policy %+v", p)
	}
	for body, want := range map[string]string{
		`{"classes": {"1": {}}}`: "not an attested SE class",
		`{"manufacturers": [{"name": "x", "key_alg": "rsa", "key_hex": "00", "classes": [2]}]}`:     "key_alg",
		`{"manufacturers": [{"name": "x", "key_alg": "ed25519", "key_hex": "zz", "classes": [2]}]}`: "key_hex",
	} {
		if _, err := readPolicy(write(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want %q", body, err, want)
		}
	}
}
