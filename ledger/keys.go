package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Keys are the ledger's PKI: the root (which certifies the issuer) and the
// issuer (which certifies devices and signs loads, revocation lists and
// sync results).
type Keys struct {
	Currency  string
	Root      *protocol.Certificate
	Issuer    *protocol.Certificate
	RootKey   protocol.Signer
	IssuerKey protocol.Signer
}

// Key file names inside a keys directory.
const (
	rootKeyFile    = "root.key"
	issuerKeyFile  = "issuer.key"
	rootCertFile   = "root.cert"
	issuerCertFile = "issuer.cert"
	currencyFile   = "currency"
)

// Argon2id parameters (OWASP's 19 MiB, 2 passes): a guess costs tens of
// milliseconds, which is what protects a stolen key file's passphrase.
const (
	kdfTime    = 2
	kdfMemory  = 19 * 1024
	kdfThreads = 1
)

type keyFile struct {
	Alg     string `json:"alg"`
	Seed    []byte `json:"seed,omitempty"` // unencrypted Ed25519 seed
	KDF     string `json:"kdf,omitempty"`
	Time    uint32 `json:"time,omitempty"`
	Memory  uint32 `json:"memory_kib,omitempty"`
	Threads uint8  `json:"threads,omitempty"`
	Salt    []byte `json:"salt,omitempty"`
	Nonce   []byte `json:"nonce,omitempty"`
	Sealed  []byte `json:"sealed,omitempty"` // XChaCha20-Poly1305 of the seed
}

// Init creates a root and an issuer key with their certificates in dir
// (created 0700 if missing; files 0600). It refuses to overwrite existing
// keys. A non-empty passphrase encrypts the private keys (Argon2id, then
// XChaCha20-Poly1305).
func Init(dir string, currency string, passphrase []byte) (*Keys, error) {
	if err := protocol.CheckCurrency(currency); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "currency %q is not a valid code", currency)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "creating key directory: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, rootKeyFile)); err == nil {
		return nil, offpay.Errorf(offpay.ECONFLICT, "keys already exist in %s", dir)
	}
	now := uint64(time.Now().Unix())
	rootKey, issuerKey := protocol.NewEd25519Signer(), protocol.NewEd25519Signer()
	rootID := protocol.ComputeKeyID(rootKey.Alg(), rootKey.PublicKey())
	root := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleRoot, Serial: 1, Issuer: rootID,
		KeyAlg: rootKey.Alg(), Key: rootKey.PublicKey(), NotBefore: now - 3600, NotAfter: now + 20*365*86400}
	if err := root.Sign(rootKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing root: %w", err)
	}
	issuer := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleIssuer, Serial: 2, Issuer: rootID,
		KeyAlg: issuerKey.Alg(), Key: issuerKey.PublicKey(), NotBefore: now - 3600, NotAfter: now + 10*365*86400}
	if err := issuer.Sign(rootKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing issuer: %w", err)
	}
	files := map[string][]byte{
		rootCertFile:   root.Marshal(),
		issuerCertFile: issuer.Marshal(),
		currencyFile:   []byte(currency + "\n"),
	}
	for name, key := range map[string]protocol.Ed25519Signer{rootKeyFile: rootKey, issuerKeyFile: issuerKey} {
		b, err := sealKey(key.Key.Seed(), passphrase)
		if err != nil {
			return nil, err
		}
		files[name] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "writing %s: %w", name, err)
		}
	}
	return &Keys{Currency: currency, Root: root, Issuer: issuer, RootKey: rootKey, IssuerKey: issuerKey}, nil
}

// LoadKeys reads what Init wrote and checks that the certificates chain
// and match the private keys.
func LoadKeys(dir string, passphrase []byte) (*Keys, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, offpay.Errorf(offpay.ENOTFOUND, "key file %s missing", name)
			}
			return nil, offpay.Errorf(offpay.EINTERNAL, "reading %s: %w", name, err)
		}
		return b, nil
	}
	k := &Keys{}
	cur, err := read(currencyFile)
	if err != nil {
		return nil, err
	}
	k.Currency = strings.TrimSpace(string(cur))
	for _, c := range []struct {
		file string
		dst  **protocol.Certificate
	}{{rootCertFile, &k.Root}, {issuerCertFile, &k.Issuer}} {
		b, err := read(c.file)
		if err != nil {
			return nil, err
		}
		cert := new(protocol.Certificate)
		if err := protocol.Unmarshal(b, cert); err != nil {
			return nil, offpay.Errorf(offpay.EINVALID, "%s: %v", c.file, err)
		}
		*c.dst = cert
	}
	trust, err := protocol.NewTrust(k.Root)
	if err == nil {
		err = trust.AddIssuer(k.Issuer)
	}
	if err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "certificates do not chain: %v", err)
	}
	for _, c := range []struct {
		file string
		cert *protocol.Certificate
		dst  *protocol.Signer
	}{{rootKeyFile, k.Root, &k.RootKey}, {issuerKeyFile, k.Issuer, &k.IssuerKey}} {
		b, err := read(c.file)
		if err != nil {
			return nil, err
		}
		seed, err := openKey(b, passphrase)
		if err != nil {
			return nil, err
		}
		s := protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}
		if string(s.PublicKey()) != string(c.cert.Key) {
			return nil, offpay.Errorf(offpay.EINVALID, "%s does not match its certificate", c.file)
		}
		*c.dst = s
	}
	return k, nil
}

func sealKey(seed, passphrase []byte) ([]byte, error) {
	kf := keyFile{Alg: "ed25519"}
	if len(passphrase) == 0 {
		kf.Seed = seed
	} else {
		kf.KDF, kf.Time, kf.Memory, kf.Threads = "argon2id", kdfTime, kdfMemory, kdfThreads
		kf.Salt = make([]byte, 16)
		kf.Nonce = make([]byte, chacha20poly1305.NonceSizeX)
		if _, err := rand.Read(kf.Salt); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "random: %w", err)
		}
		if _, err := rand.Read(kf.Nonce); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "random: %w", err)
		}
		aead, _ := chacha20poly1305.NewX(argon2.IDKey(passphrase, kf.Salt, kf.Time, kf.Memory, kf.Threads, chacha20poly1305.KeySize))
		kf.Sealed = aead.Seal(nil, kf.Nonce, seed, []byte("offpay/1/key-file"))
	}
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "encoding key file: %w", err)
	}
	return append(b, '\n'), nil
}

func openKey(b, passphrase []byte) ([]byte, error) {
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil || kf.Alg != "ed25519" {
		return nil, offpay.Errorf(offpay.EINVALID, "key file is malformed")
	}
	if kf.KDF == "" {
		if len(kf.Seed) != ed25519.SeedSize {
			return nil, offpay.Errorf(offpay.EINVALID, "key file is malformed")
		}
		return kf.Seed, nil
	}
	if kf.KDF != "argon2id" || kf.Memory > 4<<20 || kf.Time > 100 || kf.Threads == 0 || len(kf.Nonce) != chacha20poly1305.NonceSizeX {
		return nil, offpay.Errorf(offpay.EINVALID, "key file has unsupported encryption parameters")
	}
	if len(passphrase) == 0 {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "key file is encrypted: passphrase required")
	}
	aead, _ := chacha20poly1305.NewX(argon2.IDKey(passphrase, kf.Salt, kf.Time, kf.Memory, kf.Threads, chacha20poly1305.KeySize))
	seed, err := aead.Open(nil, kf.Nonce, kf.Sealed, []byte("offpay/1/key-file"))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "wrong passphrase for key file")
	}
	return seed, nil
}

// String hides key material from logs.
func (k *Keys) String() string {
	return fmt.Sprintf("ledger keys (root %v, issuer %v)", k.Root.ID(), k.Issuer.ID())
}
