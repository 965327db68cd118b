package vse

import (
	"os"
	"path/filepath"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/offpay/offpay/protocol"
)

// FillLogForTest appends n receive entries carrying b (with distinct
// accepted keys) and commits once, so a test can reach a large log
// without n writes of a growing file.
func (v *VSE) FillLogForTest(b *protocol.PaymentBundle, n int) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	body := b.Marshal()
	for i := 0; i < n; i++ {
		if err := v.appendEntry(protocol.EntryReceive, b.Payment.Time, body); err != nil {
			return err
		}
		var k protocol.KeyID
		copy(k[:], v.s.Head[:])
		v.s.Accepted[acceptKey(k, uint64(i))] = b.Payment.Time + 3600
	}
	return v.commit()
}

// SkipCountersForTest moves the counter n entries on without writing
// them, as if the log had grown by n entries the ledger has not
// acknowledged; only refusals may follow (the log is not consistent).
func (v *VSE) SkipCountersForTest(n uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.s.Counter += n
}

// OpenStateBodyForTest decrypts the state file in dir with the key pin
// derives, passing the header as the AEAD's associated data, or nothing
// when withoutHeader: what an implementation that did not authenticate
// the header would do.
func OpenStateBodyForTest(dir, pin string, withoutHeader bool) error {
	file, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return err
	}
	h, err := parseHeader(file)
	if err != nil {
		return err
	}
	aead, err := chacha20poly1305.NewX(deriveKey(pin, h))
	if err != nil {
		return err
	}
	ad := file[:h.size()]
	if withoutHeader {
		ad = nil
	}
	_, err = aead.Open(nil, h.nonce[:], file[h.size():], ad)
	return err
}

// CreateV1ForTest makes an SE whose state file has the version 1 format:
// the key the PIN derives encrypts it, and it has no unlock code, as SEs
// made before unlock codes existed.
func CreateV1ForTest(dir, pin string, o *Options) (*VSE, error) {
	v, err := Create(dir, pin, o)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	h := header{kdf: v.hdr.kdf, salt: v.hdr.salt}
	v.hdr, v.key, v.unlockCode = h, pinKey(pin, &h), ""
	return v, v.commit()
}

// StateVersionForTest is the format version of the state file in dir.
func StateVersionForTest(dir string) (int, error) {
	file, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return 0, err
	}
	h, err := parseHeader(file)
	if err != nil {
		return 0, err
	}
	if h.v2 {
		return 2, nil
	}
	return 1, nil
}
