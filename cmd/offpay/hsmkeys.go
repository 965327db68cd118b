package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/hsm/pkcs11"
	"github.com/offpay/offpay/ledger"
)

// The ledger's keys in a PKCS#11 token (README "The ledger's keys in an
// HSM"): keys/pkcs11.json records where they are; the PIN comes from the
// environment or a file, never from the command line alone.
const (
	pkcs11File = "pkcs11.json" // in keys/, instead of issuer.key
	pkcs11PIN  = "OFFPAY_PKCS11_PIN"
	// pkcs11RootPIN is the PIN of --root-token, when the root key is on a
	// token of its own (default: OFFPAY_PKCS11_PIN).
	pkcs11RootPIN = "OFFPAY_PKCS11_ROOT_PIN"
)

// hsmConfig is keys/pkcs11.json: the module, the token and the keys'
// references (labels and CKA_IDs), not the keys.
type hsmConfig struct {
	Module string `json:"module"`
	Token  string `json:"token"` // the issuer's token, which ledger serve opens
	// RootToken holds the root key when it is not Token: a token the
	// serving ledger never opens, which can be kept offline.
	RootToken string        `json:"root_token,omitempty"`
	Root      pkcs11.KeyRef `json:"root"`
	Issuer    pkcs11.KeyRef `json:"issuer"`
}

// rootTokenLabel is the label of the token that holds the root key.
func (c hsmConfig) rootTokenLabel() string {
	if c.RootToken != "" {
		return c.RootToken
	}
	return c.Token
}

// readHSMConfig reads keys/pkcs11.json; ok is false when the keys are
// not in a token.
func readHSMConfig(keysDir string) (c hsmConfig, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(keysDir, pkcs11File))
	if errors.Is(err, os.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Module == "" || c.Token == "" || c.Issuer.ID == "" {
		return c, false, offpay.Errorf(offpay.EINVALID, "%s is malformed", filepath.Join(keysDir, pkcs11File))
	}
	return c, true, nil
}

// hsmPIN is the token's user PIN: the file's first line if file is set,
// else OFFPAY_PKCS11_PIN.
func hsmPIN(e *env, file string) ([]byte, error) {
	if file != "" {
		return pinFromFile("--pkcs11-pin-file", file)
	}
	if pin := e.getenv(pkcs11PIN); pin != "" {
		return []byte(pin), nil
	}
	return nil, usageErrorf("the token's PIN: set %s or give --pkcs11-pin-file FILE", pkcs11PIN)
}

// hsmInit says where ledger init puts the keys: the issuer on token, the
// root on rootToken ("": token too).
type hsmInit struct {
	module, token, rootToken string
	pin, rootPIN             []byte
	alg                      string
}

// pinFromFile is the first line of file, the value of flag.
func pinFromFile(flag, file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usageErrorf("%s: %v", flag, err)
	}
	pin, _, _ := strings.Cut(string(b), "\n")
	if pin = strings.TrimRight(pin, "\r"); pin == "" {
		return nil, usageErrorf("%s %s: its first line is empty", flag, file)
	}
	return []byte(pin), nil
}

// initHSMKeys makes the root and issuer keys on their tokens, their
// certificates in keysDir and keys/pkcs11.json. A wrong PIN fails before
// anything is written; a later failure removes the keys it made.
func initHSMKeys(keysDir, currency string, o hsmInit) (err error) {
	a, err := pkcs11.ParseAlg(o.alg)
	if err != nil {
		return usageErrorf("--key-alg: %v", err)
	}
	for _, f := range []string{"issuer.key", "issuer.cert", "root.cert", pkcs11File} {
		if _, err := os.Stat(filepath.Join(keysDir, f)); err == nil {
			return offpay.Errorf(offpay.ECONFLICT, "keys already exist in %s", keysDir)
		}
	}
	tok, err := pkcs11.Open(o.module, o.token, o.pin)
	if err != nil {
		return err
	}
	defer tok.Close()
	rootTok := tok
	if o.rootToken != "" && o.rootToken != o.token {
		if rootTok, err = pkcs11.Open(o.module, o.rootToken, o.rootPIN); err != nil {
			return err
		}
		defer rootTok.Close()
	} else {
		o.rootToken = ""
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	root, err := rootTok.Generate(a, "offpay root "+stamp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			root.Destroy()
		}
	}()
	issuer, err := tok.Generate(a, "offpay issuer "+stamp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			issuer.Destroy()
		}
	}()
	if _, err = ledger.InitSigners(keysDir, currency, root, issuer); err != nil {
		return err
	}
	abs, aerr := filepath.Abs(o.module)
	if aerr != nil {
		abs = o.module
	}
	b, _ := json.MarshalIndent(hsmConfig{Module: abs, Token: o.token, RootToken: o.rootToken, Root: root.Ref(), Issuer: issuer.Ref()}, "", "  ")
	if err = writeFileAtomic(filepath.Join(keysDir, pkcs11File), append(b, '\n')); err != nil {
		for _, f := range []string{"root.cert", "issuer.cert", "currency"} {
			os.Remove(filepath.Join(keysDir, f))
		}
	}
	return err
}

// loadLedgerKeys opens the keys of a data folder: from its token if
// keys/pkcs11.json says so (closer then closes the token after serving),
// else from the key file.
func loadLedgerKeys(keysDir string, passphrase, pin []byte) (k *ledger.Keys, closer func() error, err error) {
	c, ok, err := readHSMConfig(keysDir)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		k, err := ledger.LoadKeys(keysDir, passphrase)
		return k, func() error { return nil }, err
	}
	if len(pin) == 0 {
		return nil, nil, usageErrorf("the ledger's keys are on PKCS#11 token %q: set %s or give --pkcs11-pin-file FILE", c.Token, pkcs11PIN)
	}
	tok, err := pkcs11.Open(c.Module, c.Token, pin)
	if err != nil {
		return nil, nil, err
	}
	key, err := tok.Key(c.Issuer)
	if err == nil {
		k, err = ledger.LoadKeysWith(keysDir, key)
	}
	if err != nil {
		tok.Close()
		return nil, nil, err
	}
	return k, tok.Close, nil
}

// hsmError says what went wrong with a token in the operator's words.
func hsmError(err error) (string, int, bool) {
	switch {
	case errors.Is(err, pkcs11.ErrPINIncorrect):
		return "wrong PIN for the ledger's PKCS#11 token (" + pkcs11PIN + " or --pkcs11-pin-file); nothing was changed: " + err.Error(), exitPIN, true
	case errors.Is(err, pkcs11.ErrPINLocked):
		return "the PKCS#11 token's PIN is locked: its security officer must unlock it: " + err.Error(), exitPIN, true
	case errors.Is(err, pkcs11.ErrNoCgo):
		return err.Error(), exitUsage, true
	}
	var pe *pkcs11.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("PKCS#11: %v", err), exitError, true
	}
	return "", 0, false
}

// rotateHSM is ledger issuer rotate with the keys on tokens: a new
// issuer key made on the issuer's token, certified by the root key on
// its token, recorded in keys/pkcs11.json; the old issuer key is then
// deleted from the token (its certificate is kept in keys/retired).
func rotateHSM(e *env, keysDir string, c hsmConfig, pinFile, rootPinFile string) (err error) {
	pin, err := hsmPIN(e, pinFile)
	if err != nil {
		return err
	}
	rootPIN := pin
	if rootPinFile != "" {
		if rootPIN, err = pinFromFile("--pkcs11-root-pin-file", rootPinFile); err != nil {
			return err
		}
	} else if p := e.getenv(pkcs11RootPIN); p != "" {
		rootPIN = []byte(p)
	}
	tok, err := pkcs11.Open(c.Module, c.Token, pin)
	if err != nil {
		return err
	}
	defer tok.Close()
	rootTok := tok
	if c.RootToken != "" {
		if rootTok, err = pkcs11.Open(c.Module, c.RootToken, rootPIN); err != nil {
			return err
		}
		defer rootTok.Close()
	}
	root, err := rootTok.Key(c.Root)
	if err != nil {
		return err
	}
	oldKey, err := tok.Key(c.Issuer)
	if err != nil {
		return err
	}
	old, err := ledger.LoadKeysWith(keysDir, oldKey)
	if err != nil {
		return err
	}
	alg, _ := pkcs11.ParseAlg(c.Issuer.Alg)
	key, err := tok.Generate(alg, "offpay issuer "+time.Now().UTC().Format("20060102T150405Z"))
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if err != nil && !committed {
			key.Destroy()
		}
	}()
	cert, err := ledger.RotateIssuerWith(keysDir, root, key, func() error {
		n := c
		n.Issuer = key.Ref()
		b, _ := json.MarshalIndent(n, "", "  ")
		if err := writeFileAtomic(filepath.Join(keysDir, pkcs11File), append(b, '\n')); err != nil {
			return err
		}
		committed = true
		return nil
	})
	if err != nil {
		return err
	}
	if err := oldKey.Destroy(); err != nil {
		fmt.Fprintf(e.stderr, "warning: the old issuer key %q stays on token %q: %v\n", c.Issuer.Label, c.Token, err)
	}
	printRotated(e, old.Issuer.ID(), cert)
	return nil
}
