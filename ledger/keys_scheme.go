package ledger

import (
	"os"
	"path/filepath"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// A scheme (README "Federation") holds the root; each provider's ledger
// holds an issuer the root certified. The scheme's folder has the root
// certificate, the currency and the root key (rootKeyFile); a provider's
// keys folder is what InitWith writes, with the scheme's root certificate.

const rootKeyFile = "root.key"

// InitRoot creates a scheme's root key and self-signed certificate in dir
// (created 0700; files 0600): root.cert, currency and root.key, encrypted
// with passphrase if it is not empty. It refuses to overwrite a root.
func InitRoot(dir, currency string, passphrase []byte) (*protocol.Certificate, error) {
	if err := protocol.CheckCurrency(currency); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "currency %q is not a valid code", currency)
	}
	if _, err := os.Stat(filepath.Join(dir, rootCertFile)); err == nil {
		return nil, offpay.Errorf(offpay.ECONFLICT, "a root already exists in %s", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "creating %s: %w", dir, err)
	}
	now := uint64(time.Now().Unix())
	key := protocol.NewEd25519Signer()
	root := &protocol.Certificate{Version: protocol.Version, Role: protocol.RoleRoot, Serial: 1, Issuer: protocol.ComputeKeyID(key.Alg(), key.PublicKey()),
		KeyAlg: key.Alg(), Key: key.PublicKey(), NotBefore: now - 3600, NotAfter: now + 20*365*86400}
	if err := root.Sign(key); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "signing root: %w", err)
	}
	kb, err := sealKey(key.Key.Seed(), passphrase)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{rootKeyFile, kb}, {currencyFile, []byte(currency + "\n")}, {rootCertFile, root.Marshal()}} {
		if err := writePrivate(filepath.Join(dir, f.name), f.b); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// LoadRoot reads what InitRoot wrote: the currency, the root certificate
// and its key.
func LoadRoot(dir string, passphrase []byte) (currency string, root *protocol.Certificate, key protocol.Signer, err error) {
	cur, err := readFile(dir, currencyFile)
	if err != nil {
		return "", nil, nil, err
	}
	if root, err = readCert(dir, rootCertFile); err != nil {
		return "", nil, nil, err
	}
	if _, err := protocol.NewTrust(root); err != nil {
		return "", nil, nil, offpay.Errorf(offpay.EINVALID, "%s: %v", rootCertFile, err)
	}
	if key, err = readSigner(filepath.Join(dir, rootKeyFile), root, passphrase); err != nil {
		return "", nil, nil, err
	}
	return string(trimNewline(cur)), root, key, nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// InitProvider creates a provider ledger's keys in dir under a scheme's
// root: a new issuer key (encrypted with passphrase if not empty)
// certified by rootKey, the scheme's root certificate and currency. The
// ledger then serves as after InitWith; RotateIssuer with the scheme's
// root key rotates its issuer. It refuses to overwrite existing keys.
func InitProvider(dir, currency string, root *protocol.Certificate, rootKey protocol.Signer, passphrase []byte) (*Keys, error) {
	if err := protocol.CheckCurrency(currency); err != nil {
		return nil, offpay.Errorf(offpay.EINVALID, "currency %q is not a valid code", currency)
	}
	if rootKey.Alg() != root.KeyAlg || string(rootKey.PublicKey()) != string(root.Key) {
		return nil, offpay.Errorf(offpay.EINVALID, "the root key is not the key of the root certificate")
	}
	if _, err := os.Stat(filepath.Join(dir, issuerKeyFile)); err == nil {
		return nil, offpay.Errorf(offpay.ECONFLICT, "keys already exist in %s", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, offpay.Errorf(offpay.EINTERNAL, "creating key directory: %w", err)
	}
	key := protocol.NewEd25519Signer()
	issuer, err := issuerCert(root, rootKey, key, uint64(randomID()), uint64(time.Now().Unix()))
	if err != nil {
		return nil, err
	}
	kb, err := sealKey(key.Key.Seed(), passphrase)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{rootCertFile, root.Marshal()}, {currencyFile, []byte(currency + "\n")}, {issuerCertFile, issuer.Marshal()}, {issuerKeyFile, kb}} {
		if err := writePrivate(filepath.Join(dir, f.name), f.b); err != nil {
			return nil, err
		}
	}
	return LoadKeys(dir, passphrase)
}
