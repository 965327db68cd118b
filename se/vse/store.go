package vse

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/offpay/offpay/protocol"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
	"github.com/offpay/offpay/se/internal/kdfescape"
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

// DefaultKDF is what a wallet is created with unless it asks for more:
// Argon2id over 256 MiB (what a phone app can take for a moment), 4
// passes, 2 lanes. One guess costs about 0.8 s of CPU on the project's
// 2-core machine (BenchmarkUnlockDefaultKDF), so about 0.4 s to unlock on
// two cores and 0.8 s on one: the 0.5-1 s a phone-class device can spend
// per unlock (README, "Security model", has the figures and a GPU's).
var DefaultKDF = KDF{Time: 4, Memory: 256 * 1024, Threads: 2}

// MinKDF is the floor: Create refuses fewer passes or less memory (RFC
// 9106's second recommended option, 64 MiB and 3 passes). Threads do not
// raise an attacker's cost, so any number is allowed.
var MinKDF = KDF{Time: 3, Memory: 64 * 1024, Threads: 1}

// ErrKDFBelowFloor is returned by Create for parameters below MinKDF.
var ErrKDFBelowFloor = errors.New("vse: PIN key derivation below the floor (vse.MinKDF: 3 passes, 64 MiB)")

// MinPINLen is the fewest characters Create accepts; a certificate may ask
// more (protocol.Limits.MinPIN), which Install enforces.
const MinPINLen = 4

// Options configure a virtual SE. The zero value is the production default.
type Options struct {
	KDF         KDF             // for Create (at least MinKDF); Open reads it from the header
	MaxPINTries int             // consecutive wrong PINs before lock; default 5
	Hook        atomicfile.Hook // tests: simulated crash points
	LogSpill    int             // log entries kept in the state file; default DefaultLogSpill
	// Class is the SE class its enrolment requests claim (default
	// protocol.SEVirtual). A card whose key a manufacturer attested claims
	// the attested class (se/card/applet); the ledger refuses a class
	// above 1 without a trusted attestation.
	Class protocol.SEClass
	// BelowFloorForTests lets Create use a KDF below MinKDF, to keep tests
	// and the simulator fast. Only se/setest and se/simse can set it: its
	// type is internal to se/.
	BelowFloorForTests *kdfescape.Token
}

// checkKDF refuses parameters below the floor unless o carries the
// tests' escape.
func (o *Options) checkKDF() error {
	k := o.KDF
	if o.BelowFloorForTests != nil && o.BelowFloorForTests == kdfescape.Get() {
		return nil
	}
	if k.Time < MinKDF.Time || k.Memory < MinKDF.Memory || k.Threads == 0 {
		return fmt.Errorf("%w: asked %d passes, %d MiB", ErrKDFBelowFloor, k.Time, k.Memory/1024)
	}
	return nil
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
	if x.Class == 0 {
		x.Class = protocol.SEVirtual
	}
	return x
}

// State file formats. Version 1: the key the PIN derives encrypts the
// state and the log file. Version 2: a random state key encrypts them, and
// the header carries it wrapped twice, under the key the PIN derives and
// under the key of the unlock code (pin.go), so that changing the PIN, or
// setting a new one with the unlock code, rewrites the header only.
var (
	magic   = [8]byte{'O', 'P', 'V', 'S', 'E', 0, 0, 1}
	magicV2 = [8]byte{'O', 'P', 'V', 'S', 'E', 0, 0, 2}
)

const (
	saltSize = 16
	// wrapSize is a wrapped state key: nonce, key, tag.
	wrapSize     = chacha20poly1305.NonceSizeX + chacha20poly1305.KeySize + chacha20poly1305.Overhead
	headerSize   = 8 + 4 + 4 + 1 + saltSize + chacha20poly1305.NonceSizeX
	headerSizeV2 = 8 + 4 + 4 + 1 + 2*saltSize + 2*wrapSize + chacha20poly1305.NonceSizeX
)

// header is the unencrypted prefix of the state file. All of it is the
// AEAD's associated data, so changing the KDF parameters or salt fails
// authentication instead of silently weakening anything.
type header struct {
	v2  bool
	kdf KDF
	// salt is, in version 1, the PIN's salt; in both, the SE's own id that
	// the log file's records carry as associated data (it never changes).
	salt [saltSize]byte
	// Version 2: the PIN's salt (new with each PIN), and the state key
	// wrapped under the PIN's key and under the unlock code's key (all
	// zero: the SE has no unlock code).
	pinSalt          [saltSize]byte
	pinWrap, pukWrap [wrapSize]byte
	nonce            [chacha20poly1305.NonceSizeX]byte
}

func (h *header) size() int {
	if h.v2 {
		return headerSizeV2
	}
	return headerSize
}

func (h *header) marshal() []byte {
	b := make([]byte, 0, h.size())
	if h.v2 {
		b = append(b, magicV2[:]...)
	} else {
		b = append(b, magic[:]...)
	}
	b = binary.BigEndian.AppendUint32(b, h.kdf.Time)
	b = binary.BigEndian.AppendUint32(b, h.kdf.Memory)
	b = append(b, h.kdf.Threads)
	b = append(b, h.salt[:]...)
	if h.v2 {
		b = append(b, h.pinSalt[:]...)
		b = append(b, h.pinWrap[:]...)
		b = append(b, h.pukWrap[:]...)
	}
	return append(b, h.nonce[:]...)
}

func parseHeader(b []byte) (*header, error) {
	h := &header{}
	switch {
	case len(b) >= 8 && bytes.Equal(b[:8], magic[:]):
	case len(b) >= 8 && bytes.Equal(b[:8], magicV2[:]):
		h.v2 = true
	default:
		return nil, errors.New("vse: not a virtual SE state file")
	}
	if len(b) < h.size()+chacha20poly1305.Overhead {
		return nil, errors.New("vse: not a virtual SE state file")
	}
	h.kdf = KDF{
		Time:    binary.BigEndian.Uint32(b[8:]),
		Memory:  binary.BigEndian.Uint32(b[12:]),
		Threads: b[16],
	}
	// Refuse absurd parameters before spending memory on them.
	if h.kdf.Time == 0 || h.kdf.Time > 64 || h.kdf.Memory < 8 || h.kdf.Memory > 1<<20 || h.kdf.Threads == 0 {
		return nil, errors.New("vse: bad KDF parameters in header")
	}
	r := b[17:]
	r = r[copy(h.salt[:], r):]
	if h.v2 {
		r = r[copy(h.pinSalt[:], r):]
		r = r[copy(h.pinWrap[:], r):]
		r = r[copy(h.pukWrap[:], r):]
	}
	copy(h.nonce[:], r)
	return h, nil
}

// pinKey is the key a PIN derives: in version 1 the state key itself, in
// version 2 the key its copy in pinWrap is wrapped under.
func pinKey(pin string, h *header) []byte {
	salt := h.salt
	if h.v2 {
		salt = h.pinSalt
	}
	return argon2.IDKey([]byte(pin), salt[:], h.kdf.Time, h.kdf.Memory, h.kdf.Threads, chacha20poly1305.KeySize)
}

// deriveKey returns the state key the PIN opens (nil for a wrong PIN of a
// version 2 file; a wrong PIN of a version 1 file gives a wrong key).
func deriveKey(pin string, h *header) []byte {
	k := pinKey(pin, h)
	if !h.v2 {
		return k
	}
	sk, err := unwrapKey(k, h.pinWrap, h, "pin")
	if err != nil {
		return nil
	}
	return sk
}

func wrapAD(h *header, which string) []byte {
	return append([]byte("offpay/vse/wrap/"+which+"/"), h.salt[:]...)
}

// wrapKey wraps the state key sk under kek.
func wrapKey(kek, sk []byte, h *header, which string) ([wrapSize]byte, error) {
	var w [wrapSize]byte
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return w, err
	}
	nonce := w[:chacha20poly1305.NonceSizeX]
	if _, err := rand.Read(nonce); err != nil {
		return w, err
	}
	aead.Seal(w[chacha20poly1305.NonceSizeX:chacha20poly1305.NonceSizeX], nonce, sk, wrapAD(h, which))
	return w, nil
}

// unwrapKey opens a wrapped state key.
func unwrapKey(kek []byte, w [wrapSize]byte, h *header, which string) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, w[:chacha20poly1305.NonceSizeX], w[chacha20poly1305.NonceSizeX:], wrapAD(h, which))
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

func open(key []byte, h *header, file []byte) ([]byte, error) {
	if key == nil {
		return nil, errors.New("vse: no key")
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, h.nonce[:], file[h.size():], file[:h.size()])
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
	plain, err = open(key, h, file)
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

// newHeader makes a version 2 header for a new state key sk, protected by
// pin, and an unlock code for it.
func newHeader(k KDF, pin string, sk []byte) (h header, code string, err error) {
	h = header{v2: true, kdf: k}
	if _, err := rand.Read(h.salt[:]); err != nil {
		return h, "", fmt.Errorf("vse: salt: %w", err)
	}
	if err := h.setPIN(pin, sk); err != nil {
		return h, "", err
	}
	code, err = h.newUnlockCode(sk)
	return h, code, err
}

// setPIN wraps the state key sk under a new PIN (with a fresh salt).
func (h *header) setPIN(pin string, sk []byte) error {
	if _, err := rand.Read(h.pinSalt[:]); err != nil {
		return fmt.Errorf("vse: salt: %w", err)
	}
	w, err := wrapKey(pinKey(pin, h), sk, h, "pin")
	h.pinWrap = w
	return err
}
