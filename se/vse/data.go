package vse

import (
	"bytes"
	"crypto/rand"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/offpay/offpay/se"
)

// Data sealing: the app above the SE keeps files beside it (a wallet's
// history and archive, its channel key) that say whom it paid, how much
// and when, or hold a secret. SealData encrypts them under a key that
// lives only inside the SE's sealed state, so a copy of the folder shows
// them no more than it shows the purse: opening them needs the PIN.
//
// Format: "OPSD1" || 24-byte nonce || XChaCha20-Poly1305(plain), with
// "offpay/vse/data/" || label as associated data, so a blob sealed for one
// use does not open as another.

var dataMagic = []byte("OPSD1")

var _ se.DataSealer = (*VSE)(nil)

// newDataKey returns a fresh random key, or nil if there is no
// randomness.
func newDataKey() []byte {
	k := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil
	}
	return k
}

func dataAD(label string) []byte { return []byte("offpay/vse/data/" + label) }

// SealData implements se.DataSealer.
func (v *VSE) SealData(label string, plain []byte) ([]byte, error) {
	if err := v.begin(false); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	aead, err := chacha20poly1305.NewX(v.s.DataKey)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(dataMagic)+aead.NonceSize(), len(dataMagic)+aead.NonceSize()+len(plain)+aead.Overhead())
	copy(out, dataMagic)
	nonce := out[len(dataMagic):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plain, dataAD(label)), nil
}

// OpenData implements se.DataSealer.
func (v *VSE) OpenData(label string, sealed []byte) ([]byte, error) {
	if err := v.begin(false); err != nil {
		return nil, err
	}
	defer v.mu.Unlock()
	aead, err := chacha20poly1305.NewX(v.s.DataKey)
	if err != nil {
		return nil, err
	}
	n := len(dataMagic) + aead.NonceSize()
	if len(sealed) < n+aead.Overhead() || !bytes.Equal(sealed[:len(dataMagic)], dataMagic) {
		return nil, se.Errorf(se.CodeBadData, "not data sealed by this SE")
	}
	plain, err := aead.Open(nil, sealed[len(dataMagic):n], sealed[n:], dataAD(label))
	if err != nil {
		return nil, se.Errorf(se.CodeBadData, "%s: sealed by another SE, or changed", label)
	}
	return plain, nil
}

// IsSealedData reports whether b has the form SealData writes (not
// whether it opens).
func IsSealedData(b []byte) bool { return bytes.HasPrefix(b, dataMagic) }
