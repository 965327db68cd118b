// Package attest is the manufacturing side of an attested card: the TEST
// manufacturer that attests the key of an emulated card (`offpay card
// emulate --new`), and the attestation file a virtual card keeps in its
// folder, as a real card keeps the one burnt in at manufacture.
//
// The TEST manufacturer key is derived from a seed published here: anyone
// can sign attestations with it. It exists so that the emulator, the tests
// and a demo can exercise attested enrolment; a ledger in production must
// never trust it (ledger.Policy refuses it unless the policy marks it as a
// test key, and `ledger serve` warns when it does).
package attest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/atomicfile"
)

// TestSeedLabel is the published text the TEST manufacturer key's seed is
// the SHA-256 of.
const TestSeedLabel = "offpay TEST manufacturer key: its seed is public, never trust it in production"

// TestManufacturer returns the TEST manufacturer's signing key (whose
// public half is protocol.TestManufacturerKey).
func TestManufacturer() protocol.Ed25519Signer {
	seed := sha256.Sum256([]byte(TestSeedLabel))
	return protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed[:])}
}

// File is the attestation's file in a virtual card's folder.
const File = "attestation"

// Make signs the attestation of a device key of class made at made by
// maker: what a manufacturer's personalisation station does once per card.
func Make(maker protocol.Signer, alg protocol.Alg, key []byte, class protocol.SEClass, made uint64) (*protocol.Attestation, error) {
	a := &protocol.Attestation{Version: protocol.Version, KeyAlg: alg, Key: key, Class: class, Made: made}
	if err := a.Sign(maker); err != nil {
		return nil, err
	}
	var back protocol.Attestation
	if err := protocol.Unmarshal(a.Marshal(), &back); err != nil {
		return nil, err
	}
	return a, nil
}

// Write stores a in the card folder dir (atomically).
func Write(dir string, a *protocol.Attestation) error {
	return atomicfile.Write(dir, File, protocol.Seal(a), nil)
}

// Read returns the attestation in the card folder dir, or nil if it has
// none (a card that was not attested: it enrols as class 1).
func Read(dir string) (*protocol.Attestation, error) {
	b, err := os.ReadFile(filepath.Join(dir, File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a := new(protocol.Attestation)
	if err := protocol.OpenAs(b, a); err != nil {
		return nil, fmt.Errorf("attest: %s: %w", filepath.Join(dir, File), err)
	}
	return a, nil
}
