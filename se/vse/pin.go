package vse

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/offpay/offpay/se"
)

// The unlock code (a SIM card's PUK). Create makes one and shows it once
// (UnlockCode): 16 symbols of Crockford's base32, 80 random bits, written
// in four groups of four. The header keeps the state key wrapped under a
// key the code derives (HKDF-SHA256: 80 random bits need no slow KDF, and
// cannot be guessed offline either), so that after MaxPINTries wrong PINs
// the owner sets a new PIN with it (ResetPIN), and nobody else can without
// it. A wrong code changes nothing and is not counted: there is no
// lockout to reach, and guessing 80 bits is out of reach.

const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ" // Crockford's base32

// codeLen is the symbols of an unlock code.
const codeLen = 16

// newUnlockCode makes a code and wraps the state key sk under it.
func (h *header) newUnlockCode(sk []byte) (string, error) {
	var raw [10]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	var sym []byte
	var acc, bits uint
	for _, b := range raw {
		acc, bits = acc<<8|uint(b), bits+8
		for bits >= 5 {
			sym = append(sym, codeAlphabet[(acc>>(bits-5))&31])
			bits -= 5
		}
	}
	code := fmt.Sprintf("%s-%s-%s-%s", sym[0:4], sym[4:8], sym[8:12], sym[12:16])
	k, err := codeKey(code, h)
	if err != nil {
		return "", err
	}
	w, err := wrapKey(k, sk, h, "code")
	h.pukWrap = w
	return code, err
}

// normalCode is an unlock code as typed, read the way Crockford's base32
// reads it: case, dashes and spaces ignored, O read as 0, I and L as 1.
func normalCode(code string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch r {
		case '-', ' ':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", se.Errorf(se.CodeBadPIN, "an unlock code has the letters and digits of XXXX-XXXX-XXXX-XXXX, not %q", r)
		}
		b.WriteRune(r)
	}
	if b.Len() != codeLen {
		return "", se.Errorf(se.CodeBadPIN, "an unlock code has %d letters and digits, not %d", codeLen, b.Len())
	}
	return b.String(), nil
}

// codeKey is the key an unlock code derives for this SE.
func codeKey(code string, h *header) ([]byte, error) {
	c, err := normalCode(code)
	if err != nil {
		return nil, err
	}
	return hkdf.Key(sha256.New, []byte(c), h.salt[:], "offpay/vse/unlock-code", chacha20poly1305.KeySize)
}

// UnlockCode returns the unlock code Create made for this SE, the first
// time it is asked, and "" from then on (and for an SE opened from disk):
// show it to the owner once, who keeps it apart from the device.
func (v *VSE) UnlockCode() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.unlockCode
	v.unlockCode = ""
	return c
}

// NewUnlockCode gives the SE a new unlock code, returned to show once;
// the old code stops working. An SE still in the version 1 format gets
// its first code at a PIN change (ChangePIN) instead.
func (v *VSE) NewUnlockCode() (string, error) {
	if err := v.begin(false); err != nil {
		return "", err
	}
	defer v.mu.Unlock()
	if !v.hdr.v2 {
		return "", se.Errorf(se.CodeBadPIN, "this SE gets its unlock code at its next PIN change")
	}
	h := v.hdr
	code, err := h.newUnlockCode(v.key)
	if err != nil {
		return "", err
	}
	old := v.hdr
	v.hdr = h
	if err := v.commit(); err != nil {
		v.hdr = old
		return "", err
	}
	v.unlockCode = ""
	return code, nil
}

// checkNewPIN refuses a PIN shorter than MinPINLen or than the installed
// certificate's MinPIN.
func (v *VSE) checkNewPIN(pin string) error {
	n := utf8.RuneCountInString(pin)
	min := uint64(MinPINLen)
	if v.cert != nil {
		min = max(min, v.cert.Limits.MinPIN)
	}
	if uint64(n) < min {
		return se.Errorf(se.CodeWeakPIN, "the new PIN has %d characters; at least %d are needed", n, min)
	}
	return nil
}

// ChangePIN sets a new PIN for the SE, opened with its current one. Only
// the header is rewritten (one atomic write): the log file and the data
// the SE sealed stay as they are. An SE made before unlock codes existed
// (a version 1 state file) gets one now, returned here (show it once);
// otherwise code is "".
func (v *VSE) ChangePIN(pin string) (code string, err error) {
	if err := v.begin(false); err != nil {
		return "", err
	}
	defer v.mu.Unlock()
	if err := v.checkNewPIN(pin); err != nil {
		return "", err
	}
	h := v.hdr
	if !h.v2 {
		// The key the old PIN derived stays the state key (the log file is
		// sealed under it); from now on it is wrapped.
		h.v2 = true
		if code, err = h.newUnlockCode(v.key); err != nil {
			return "", err
		}
	}
	if err := h.setPIN(pin, v.key); err != nil {
		return "", err
	}
	old := v.hdr
	v.hdr = h
	if err := v.commit(); err != nil {
		v.hdr = old
		return "", err
	}
	v.pinLen = utf8.RuneCountInString(pin)
	return code, nil
}

// ResetPIN opens the SE in dir with its unlock code, sets pin as its PIN
// and ends a lockout (the wrong-PIN count goes back to 0). A wrong code
// changes nothing (se.ErrBadPIN); an SE without an unlock code (made
// before they existed, and whose PIN was never changed since) cannot be
// reset.
func ResetPIN(dir, code, pin string, opts *Options) (*VSE, error) {
	o := opts.withDefaults()
	cleanTemp(dir)
	file, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	h, err := parseHeader(file)
	if err != nil {
		return nil, err
	}
	if !h.v2 || h.pukWrap == ([wrapSize]byte{}) {
		return nil, se.Errorf(se.CodeBadPIN, "this SE has no unlock code (it was made before they existed): its PIN cannot be reset")
	}
	k, err := codeKey(code, h)
	if err != nil {
		return nil, err
	}
	sk, err := unwrapKey(k, h.pukWrap, h, "code")
	if err != nil {
		return nil, se.Errorf(se.CodeBadPIN, "wrong unlock code")
	}
	plain, err := open(sk, h, file)
	if err != nil {
		return nil, fmt.Errorf("vse: the state does not open with its own key: %w", err)
	}
	v, err := openState(dir, o, h, sk, plain, 0)
	if err != nil {
		return nil, err
	}
	if _, err := v.ChangePIN(pin); err != nil {
		return nil, err
	}
	if err := writeTries(dir, 0, o.Hook); err != nil {
		return nil, err
	}
	return v, nil
}

// openState makes the VSE of a decrypted state.
func openState(dir string, o Options, h *header, key, plain []byte, pinLen int) (*VSE, error) {
	s := newState(nil)
	if err := gob.NewDecoder(bytes.NewReader(plain)).Decode(s); err != nil {
		return nil, fmt.Errorf("vse: decoding state: %w", err)
	}
	v := &VSE{dir: dir, o: o, hdr: *h, key: key, s: s, pinLen: pinLen}
	if err := v.load(); err != nil {
		return nil, err
	}
	if err := v.loadLogFile(); err != nil {
		return nil, err
	}
	return v, nil
}
