package vse

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
)

// File names inside an SE folder.
const (
	StateFile = "vse.state" // header || XChaCha20-Poly1305(state), header as associated data
	TriesFile = "vse.tries" // consecutive wrong PINs, plain text, no MAC
)

// KDF holds Argon2id parameters.
type KDF struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultKDF is RFC 9106's second recommended option (64 MiB, 3 passes).
var DefaultKDF = KDF{Time: 3, Memory: 64 * 1024, Threads: 4}

// Options configure a virtual SE. The zero value is the production default.
type Options struct {
	KDF         KDF             // for Create; Open reads it from the header
	MaxPINTries int             // consecutive wrong PINs before lock; default 5
	Hook        atomicfile.Hook // tests: simulated crash points
	LogSpill    int             // log entries kept in the state file; default DefaultLogSpill
}

func (o *Options) withDefaults() Options {
	var x Options
	if o != nil {
		x = *o
	}
	if x.KDF == (KDF{}) {
		x.KDF = DefaultKDF
	}
	if x.MaxPINTries <= 0 {
		x.MaxPINTries = 5
	}
	if x.LogSpill <= 0 {
		x.LogSpill = DefaultLogSpill
	}
	return x
}

var magic = [8]byte{'O', 'P', 'V', 'S', 'E', 0, 0, 1}

const (
	saltSize   = 16
	headerSize = 8 + 4 + 4 + 1 + saltSize + chacha20poly1305.NonceSizeX
)

// header is the unencrypted prefix of the state file. All of it is the
// AEAD's associated data, so changing the KDF parameters or salt fails
// authentication instead of silently weakening anything.
type header struct {
	kdf   KDF
	salt  [saltSize]byte
	nonce [chacha20poly1305.NonceSizeX]byte
}

func (h *header) marshal() []byte {
	b := make([]byte, 0, headerSize)
	b = append(b, magic[:]...)
	b = binary.BigEndian.AppendUint32(b, h.kdf.Time)
	b = binary.BigEndian.AppendUint32(b, h.kdf.Memory)
	b = append(b, h.kdf.Threads)
	b = append(b, h.salt[:]...)
	return append(b, h.nonce[:]...)
}

func parseHeader(b []byte) (*header, error) {
	if len(b) < headerSize+chacha20poly1305.Overhead || !bytes.Equal(b[:8], magic[:]) {
		return nil, errors.New("vse: not a virtual SE state file")
	}
	h := &header{kdf: KDF{
		Time:    binary.BigEndian.Uint32(b[8:]),
		Memory:  binary.BigEndian.Uint32(b[12:]),
		Threads: b[16],
	}}
	// Refuse absurd parameters before spending memory on them.
	if h.kdf.Time == 0 || h.kdf.Time > 64 || h.kdf.Memory < 8 || h.kdf.Memory > 1<<20 || h.kdf.Threads == 0 {
		return nil, errors.New("vse: bad KDF parameters in header")
	}
	copy(h.salt[:], b[17:])
	copy(h.nonce[:], b[17+saltSize:])
	return h, nil
}

func deriveKey(pin string, h *header) []byte {
	return argon2.IDKey([]byte(pin), h.salt[:], h.kdf.Time, h.kdf.Memory, h.kdf.Threads, chacha20poly1305.KeySize)
}

// seal encrypts plain under key with a fresh random nonce.
func seal(key []byte, h header, plain []byte) ([]byte, error) {
	if _, err := rand.Read(h.nonce[:]); err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	hdr := h.marshal()
	return aead.Seal(hdr, h.nonce[:], plain, hdr), nil
}

func open(key []byte, file []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, file[17+saltSize:headerSize], file[headerSize:], file[:headerSize])
}

func readTries(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, TriesFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 {
		// A mangled counter counts as locked: failing open is safer than
		// handing out fresh guesses.
		return 1 << 30, nil
	}
	return n, nil
}

func writeTries(dir string, n int, h atomicfile.Hook) error {
	return atomicfile.Write(dir, TriesFile, []byte(strconv.Itoa(n)+"\n"), h)
}

// unlock checks the PIN against the state file and returns the plain state
// and the key. The failure counter is raised and made durable before the
// PIN is tried, so killing the process mid-try still spends the try.
func unlock(dir, pin string, o Options) (plain, key []byte, h *header, err error) {
	tries, err := readTries(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if tries >= o.MaxPINTries {
		return nil, nil, nil, se.Errorf(se.CodeLocked, "%d wrong PINs in a row", tries)
	}
	file, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, nil, nil, err
	}
	h, err = parseHeader(file)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := writeTries(dir, tries+1, o.Hook); err != nil {
		return nil, nil, nil, err
	}
	key = deriveKey(pin, h)
	plain, err = open(key, file)
	if err != nil {
		left := o.MaxPINTries - tries - 1
		if left <= 0 {
			return nil, nil, nil, se.Errorf(se.CodeBadPIN, "wrong PIN; the SE is now locked")
		}
		return nil, nil, nil, se.Errorf(se.CodeBadPIN, "wrong PIN; %d tries left", left)
	}
	if err := writeTries(dir, 0, o.Hook); err != nil {
		return nil, nil, nil, err
	}
	return plain, key, h, nil
}

// cleanTemp removes a temp file a crash left behind.
func cleanTemp(dir string) {
	for _, n := range []string{StateFile, TriesFile, LogFile} {
		os.Remove(filepath.Join(dir, n+atomicfile.TempSuffix))
	}
}

func newHeader(k KDF) (header, error) {
	h := header{kdf: k}
	_, err := rand.Read(h.salt[:])
	if err != nil {
		return h, fmt.Errorf("vse: salt: %w", err)
	}
	return h, nil
}
