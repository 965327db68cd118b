package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Keys are what a serving ledger holds of its PKI: the root certificate
// devices pin, the current issuer (which certifies devices and signs
// loads, revocation lists and sync results) with its key, and the
// certificates of issuers it rotated away from, whose device certificates
// and loads still verify. The root's private key is not among them: it
// signs issuer certificates only (at init and at rotation), so it stays
// offline (InitOptions.RootKeyFile, LoadRootKey, RotateIssuer).
type Keys struct {
	Currency  string
	Root      *protocol.Certificate
	Issuer    *protocol.Certificate
	IssuerKey protocol.Signer
	Retired   []*protocol.Certificate // earlier issuers, oldest first
}

// Key file names inside a keys directory. The root key is never one of
// them.
const (
	issuerKeyFile  = "issuer.key"
	rootCertFile   = "root.cert"
	issuerCertFile = "issuer.cert"
	currencyFile   = "currency"
	retiredDir     = "retired" // certificates of earlier issuers
	nextSuffix     = ".next"   // a rotation's new issuer before it takes over
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

// InitOptions say where Init puts the keys' secrets.
type InitOptions struct {
	// Passphrase, if not empty, encrypts the issuer key (Argon2id, then
	// XChaCha20-Poly1305); the serving ledger needs it to start.
	Passphrase []byte
	// RootKeyFile is where the root's private key is written (0600; it
	// must not exist). It belongs offline: serving never reads it, and
	// RotateIssuer needs it. Empty: the root key is not kept, and the
	// issuer can never be rotated (tests, benchmarks).
	RootKeyFile string
	// RootPassphrase, if not empty, encrypts the root key file.
	RootPassphrase []byte
}

// Init creates the ledger's PKI in dir with a root key that is not kept:
// InitWith(dir, currency, InitOptions{Passphrase: passphrase}).
func Init(dir string, currency string, passphrase []byte) (*Keys, error) {
	return InitWith(dir, currency, InitOptions{Passphrase: passphrase})
}

// InitWith creates a root and an issuer key with their certificates: the
// certificates, the issuer key and the currency in dir (created 0700 if
// missing; files 0600), the root key in o.RootKeyFile, apart. It refuses
// to overwrite existing keys.
func InitWith(dir string, currency string, o InitOptions) (*Keys, error) {
	if err := protocol.CheckCurrency(currency); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "currency %q is not a valid code", currency)
	}
	if _, err := os.Stat(filepath.Join(dir, issuerKeyFile)); err == nil {
		return nil, offpay.Errorf(offpay.ECONFLICT, "keys already exist in %s", dir)
	}
	if o.RootKeyFile != "" {
		if _, err := os.Stat(o.RootKeyFile); err == nil {
			return nil, offpay.Errorf(offpay.ECONFLICT, "%s already exists", o.RootKeyFile)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "creating key directory: %w", err)
	}
	now := uint64(time.Now().Unix())
	rootKey, issuerKey := protocol.NewEd25519Signer(), protocol.NewEd25519Signer()
	rootID := protocol.ComputeKeyID(rootKey.Alg(), rootKey.PublicKey())
	root := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleRoot, Serial: 1, Issuer: rootID,
		KeyAlg: rootKey.Alg(), Key: rootKey.PublicKey(), NotBefore: now - 3600, NotAfter: now + 20*365*86400}
	if err := root.Sign(rootKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing root: %w", err)
	}
	issuer, err := issuerCert(root, rootKey, issuerKey, 2, now)
	if err != nil {
		return nil, err
	}
	ib, err := sealKey(issuerKey.Key.Seed(), o.Passphrase)
	if err != nil {
		return nil, err
	}
	if o.RootKeyFile != "" {
		rb, err := sealKey(rootKey.Key.Seed(), o.RootPassphrase)
		if err != nil {
			return nil, err
		}
		if err := writePrivate(o.RootKeyFile, rb); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{rootCertFile, root.Marshal()}, {currencyFile, []byte(currency + "\n")}, {issuerCertFile, issuer.Marshal()}, {issuerKeyFile, ib}} {
		if err := writePrivate(filepath.Join(dir, f.name), f.b); err != nil {
			return nil, err
		}
	}
	return &Keys{Currency: currency, Root: root, Issuer: issuer, IssuerKey: issuerKey}, nil
}

// issuerCert certifies issuerKey under the root, valid for ten years (at
// most until the root expires).
func issuerCert(root *protocol.Certificate, rootKey, issuerKey protocol.Signer, serial, now uint64) (*protocol.Certificate, error) {
	c := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleIssuer, Serial: serial, Issuer: root.ID(),
		KeyAlg: issuerKey.Alg(), Key: issuerKey.PublicKey(), NotBefore: now - 3600, NotAfter: min(now+10*365*86400, root.NotAfter)}
	if err := c.Sign(rootKey); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing issuer: %w", err)
	}
	return c, nil
}

// writePrivate writes b to path through a temporary file, 0600, synced.
func writePrivate(path string, b []byte) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(b)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return offpay.Errorf(offpay.EINTERNAL, "writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

func readFile(dir, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, offpay.Errorf(offpay.ENOTFOUND, "key file %s missing", name)
		}
		return nil, offpay.Errorf(offpay.EINTERNAL, "reading %s: %w", name, err)
	}
	return b, nil
}

func readCert(dir, name string) (*protocol.Certificate, error) {
	b, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	c := new(protocol.Certificate)
	if err := protocol.Unmarshal(b, c); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "%s: %v", name, err)
	}
	return c, nil
}

// readSigner opens a key file and checks it holds the key of cert.
func readSigner(path string, cert *protocol.Certificate, passphrase []byte) (protocol.Signer, error) {
	b, err := readFile(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, err
	}
	seed, err := openKey(b, passphrase)
	if err != nil {
		return nil, err
	}
	s := protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}
	if string(s.PublicKey()) != string(cert.Key) {
		return nil, offpay.Errorf(offpay.EINVALID, "%s does not match its certificate", filepath.Base(path))
	}
	return s, nil
}

// LoadKeys reads what InitWith and RotateIssuer wrote in dir, checks that
// the certificates chain and that the issuer key matches its certificate.
// It reads no root key: a serving ledger never needs one.
func LoadKeys(dir string, passphrase []byte) (*Keys, error) {
	k, err := loadCerts(dir)
	if err != nil {
		return nil, err
	}
	if k.IssuerKey, err = readSigner(filepath.Join(dir, issuerKeyFile), k.Issuer, passphrase); err != nil {
		return nil, err
	}
	return k, nil
}

// InitSigners creates the ledger's PKI in dir for a root and an issuer
// key held elsewhere (a PKCS#11 token, hsm/pkcs11): the root certifies
// itself and the issuer through root.Sign, and dir receives the
// certificates and the currency but no key file. The caller records where
// the keys are; LoadKeysWith takes the issuer key back. It refuses to
// overwrite existing keys.
func InitSigners(dir, currency string, root, issuer protocol.Signer) (*Keys, error) {
	if err := protocol.CheckCurrency(currency); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "currency %q is not a valid code", currency)
	}
	for _, f := range []string{issuerKeyFile, issuerCertFile, rootCertFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil, offpay.Errorf(offpay.ECONFLICT, "keys already exist in %s", dir)
		}
	}
	for _, s := range []protocol.Signer{root, issuer} {
		if err := protocol.CheckCertifiableKey(s.Alg(), s.PublicKey()); err != nil {
			return nil, offpay.Errorf(offpay.EINVALID, "%v key: %v", s.Alg(), err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "creating key directory: %w", err)
	}
	now := uint64(time.Now().Unix())
	rc := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleRoot, Serial: 1, Issuer: protocol.ComputeKeyID(root.Alg(), root.PublicKey()),
		KeyAlg: root.Alg(), Key: root.PublicKey(), NotBefore: now - 3600, NotAfter: now + 20*365*86400}
	if err := rc.Sign(root); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing root: %w", err)
	}
	ic, err := issuerCert(rc, root, issuer, 2, now)
	if err != nil {
		return nil, err
	}
	// What the token signed is checked as a device will check it.
	trust, err := protocol.NewTrust(rc)
	if err == nil {
		err = trust.AddIssuer(ic)
	}
	if err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "the certificates the keys signed do not verify: %v", err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{rootCertFile, rc.Marshal()}, {currencyFile, []byte(currency + "\n")}, {issuerCertFile, ic.Marshal()}} {
		if err := writePrivate(filepath.Join(dir, f.name), f.b); err != nil {
			return nil, err
		}
	}
	return &Keys{Currency: currency, Root: rc, Issuer: ic, IssuerKey: issuer}, nil
}

// LoadKeysWith reads the certificates InitSigners wrote in dir and takes
// issuerKey as the issuer's key, after checking that it is the key of the
// issuer certificate and that a signature of it verifies.
func LoadKeysWith(dir string, issuerKey protocol.Signer) (*Keys, error) {
	// A rotation interrupted after its new key was recorded: finish it.
	next := filepath.Join(dir, issuerCertFile+nextSuffix)
	if c, err := readCert(dir, issuerCertFile+nextSuffix); err == nil && string(c.Key) == string(issuerKey.PublicKey()) {
		if err := os.Rename(next, filepath.Join(dir, issuerCertFile)); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "rotating: %w", err)
		}
	}
	k, err := loadCerts(dir)
	if err != nil {
		return nil, err
	}
	if issuerKey.Alg() != k.Issuer.KeyAlg || string(issuerKey.PublicKey()) != string(k.Issuer.Key) {
		return nil, offpay.Errorf(offpay.EINVALID, "the issuer key is not the key of %s", issuerCertFile)
	}
	msg := []byte("offpay/1/ledger-key-check")
	sig, err := issuerKey.Sign(msg)
	if err != nil {
		return nil, offpay.Errorf(offpay.EUNAVAILABLE, "the issuer key cannot sign: %w", err)
	}
	if err := protocol.VerifySignature(k.Issuer.KeyAlg, k.Issuer.Key, msg, sig); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "the issuer key's signature does not verify: %v", err)
	}
	k.IssuerKey = issuerKey
	return k, nil
}

// loadCerts reads the currency and the certificates of dir and checks
// that they chain.
func loadCerts(dir string) (*Keys, error) {
	k := &Keys{}
	cur, err := readFile(dir, currencyFile)
	if err != nil {
		return nil, err
	}
	k.Currency = strings.TrimSpace(string(cur))
	if k.Root, err = readCert(dir, rootCertFile); err != nil {
		return nil, err
	}
	if k.Issuer, err = readCert(dir, issuerCertFile); err != nil {
		return nil, err
	}
	trust, err := protocol.NewTrust(k.Root)
	if err == nil {
		err = trust.AddIssuer(k.Issuer)
	}
	if err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "certificates do not chain: %v", err)
	}
	if k.Retired, err = readRetired(dir, trust); err != nil {
		return nil, err
	}
	return k, nil
}

// readRetired reads the certificates of earlier issuers, oldest first,
// each of which must chain to the root.
func readRetired(dir string, trust *protocol.Trust) ([]*protocol.Certificate, error) {
	es, err := os.ReadDir(filepath.Join(dir, retiredDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "reading %s: %w", retiredDir, err)
	}
	var out []*protocol.Certificate
	for _, e := range es {
		if !strings.HasSuffix(e.Name(), ".cert") {
			continue
		}
		c, err := readCert(filepath.Join(dir, retiredDir), e.Name())
		if err != nil {
			return nil, err
		}
		if err := trust.AddIssuer(c); err != nil {
			return nil, offpay.Errorf(offpay.EINVALID, "%s/%s does not chain: %v", retiredDir, e.Name(), err)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NotBefore < out[j].NotBefore })
	return out, nil
}

// LoadRootKey opens the root key file (written by InitWith) and checks it
// holds the key of the root certificate in dir.
func LoadRootKey(dir, file string, passphrase []byte) (protocol.Signer, error) {
	root, err := readCert(dir, rootCertFile)
	if err != nil {
		return nil, err
	}
	return readSigner(file, root, passphrase)
}

// RotateIssuer replaces the issuer in dir by a new one certified by
// rootKey: the new issuer key (encrypted with passphrase, if not empty)
// and certificate take the place of the old ones; the old certificate
// moves to retired/ (so that the devices it certified and the loads it
// signed still verify) and the old key is deleted. The ledger must not be
// serving; it uses the new issuer from its next start, and devices learn
// it at their next contact (wallet: Sync and Reserve fetch the ledger's
// trust when a result's signer is an issuer their SE does not know). An
// interrupted rotation is finished by the next call.
func RotateIssuer(dir string, rootKey protocol.Signer, passphrase []byte) (*protocol.Certificate, error) {
	k, err := LoadKeys(dir, passphrase)
	nextKey, nextCert := filepath.Join(dir, issuerKeyFile+nextSuffix), filepath.Join(dir, issuerCertFile+nextSuffix)
	if _, serr := os.Stat(nextCert); serr == nil {
		return finishRotation(dir, nextKey, nextCert, passphrase)
	}
	if err != nil {
		return nil, err
	}
	if string(rootKey.PublicKey()) != string(k.Root.Key) {
		return nil, offpay.Errorf(offpay.EINVALID, "the root key does not match %s", rootCertFile)
	}
	key := protocol.NewEd25519Signer()
	c, err := issuerCert(k.Root, rootKey, key, k.Issuer.Serial+1, uint64(time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	kb, err := sealKey(key.Key.Seed(), passphrase)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, retiredDir), 0o700); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "creating %s: %w", retiredDir, err)
	}
	if err := writePrivate(filepath.Join(dir, retiredDir, k.Issuer.ID().String()+".cert"), k.Issuer.Marshal()); err != nil {
		return nil, err
	}
	// The key first, then the certificate that marks the rotation as begun.
	if err := writePrivate(nextKey, kb); err != nil {
		return nil, err
	}
	if err := writePrivate(nextCert, c.Marshal()); err != nil {
		return nil, err
	}
	return finishRotation(dir, nextKey, nextCert, passphrase)
}

// RotateIssuerWith replaces the issuer in dir by newIssuer, a key held
// elsewhere (a PKCS#11 token), certified by rootKey: the old certificate
// moves to retired/, the new one is written beside the current one, then
// commit records where the new key is (the caller's reference to it),
// then the new certificate takes the old one's place. Interrupted before
// commit, the ledger keeps its old issuer; after it, LoadKeysWith with
// the new key finishes the rotation. The ledger must not be serving.
func RotateIssuerWith(dir string, rootKey, newIssuer protocol.Signer, commit func() error) (*protocol.Certificate, error) {
	k, err := loadCerts(dir)
	if err != nil {
		return nil, err
	}
	if rootKey.Alg() != k.Root.KeyAlg || string(rootKey.PublicKey()) != string(k.Root.Key) {
		return nil, offpay.Errorf(offpay.EINVALID, "the root key does not match %s", rootCertFile)
	}
	if err := protocol.CheckCertifiableKey(newIssuer.Alg(), newIssuer.PublicKey()); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "new issuer key: %v", err)
	}
	c, err := issuerCert(k.Root, rootKey, newIssuer, k.Issuer.Serial+1, uint64(time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	trust, _ := protocol.NewTrust(k.Root)
	if err := trust.AddIssuer(c); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "the new issuer certificate does not verify: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, retiredDir), 0o700); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "creating %s: %w", retiredDir, err)
	}
	if err := writePrivate(filepath.Join(dir, retiredDir, k.Issuer.ID().String()+".cert"), k.Issuer.Marshal()); err != nil {
		return nil, err
	}
	next := filepath.Join(dir, issuerCertFile+nextSuffix)
	if err := writePrivate(next, c.Marshal()); err != nil {
		return nil, err
	}
	if err := commit(); err != nil {
		os.Remove(next)
		return nil, err
	}
	if err := os.Rename(next, filepath.Join(dir, issuerCertFile)); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "rotating: %w", err)
	}
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
	if _, err := LoadKeysWith(dir, newIssuer); err != nil {
		return nil, err
	}
	return c, nil
}

// finishRotation moves the new issuer in: key, then certificate.
func finishRotation(dir, nextKey, nextCert string, passphrase []byte) (*protocol.Certificate, error) {
	c, err := readCert(dir, filepath.Base(nextCert))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(nextKey); err == nil {
		if _, err := readSigner(nextKey, c, passphrase); err != nil {
			return nil, err
		}
		if err := os.Rename(nextKey, filepath.Join(dir, issuerKeyFile)); err != nil {
			return nil, offpay.Errorf(offpay.EINTERNAL, "rotating: %w", err)
		}
	}
	if err := os.Rename(nextCert, filepath.Join(dir, issuerCertFile)); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "rotating: %w", err)
	}
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
	if _, err := LoadKeys(dir, passphrase); err != nil {
		return nil, err
	}
	return c, nil
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
	return fmt.Sprintf("ledger keys (root %v, issuer %v, %d retired)", k.Root.ID(), k.Issuer.ID(), len(k.Retired))
}
