package vse

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/atomicfile"
)

// state is everything the SE keeps; it is stored whole, encrypted, on
// every change.
type state struct {
	Seed    []byte // Ed25519 private key seed
	Account string
	Cert    []byte   // device certificate, canonical encoding
	Roots   [][]byte // pinned roots
	Issuers [][]byte
	RevList []byte
	Balance uint64
	Counter uint64
	Head    protocol.Hash
	Acked   uint64
	LoadSeq uint64
	Floor   uint64 // the SE's clock never goes below this
	// LedgerFloor is the highest ledger-signed time seen. Floor may be
	// above it (a refusal for days offline records the time it saw); a
	// sync brings Floor back to LedgerFloor, so a wallet clock that once
	// ran fast cannot brick the purse after the ledger has spoken.
	LedgerFloor uint64
	LastSync    uint64 // ledger time of the last sync
	// The log is FirstLog..Counter. Entries the ledger has acked are
	// pruned ArchiveFor after the ack (archive.go); Head and Counter keep
	// the chain going. FirstLog..
	// Spilled live in LogFile, the rest in Log.
	FirstLog uint64
	Spilled  uint64
	Log      [][]byte
	// Maps are keyed by the string of a hash or nonce: gob encodes a
	// string in one go and a byte array element by element.
	Pending map[string]pendingPay // payment ID
	Unacked []payRec              // payments not yet acked: the offline count and value
	Issued  map[string]nonceRec   // nonce
	Used    map[string]uint64     // nonce -> request expiry
	// Paid maps payee ID || nonce of each request this SE paid to the
	// payment's counter, until the request expires: paying it again gives
	// that payment (Pay), never a second one.
	Paid map[string]paidRec
	// Accepted maps payer ID || counter of each payment received to the
	// expiry of the request it paid. It goes when that request's nonce
	// leaves Used: from then on a replay names a nonce the SE no longer
	// holds and is refused for that, so the set stays as small as the
	// requests of the last hour.
	Accepted map[string]uint64
	// Claims maps payer ID || counter of each payment received against the
	// standing request to its Time + protocol.ClaimWindow. An entry goes
	// once LedgerFloor reaches that value: from then on Receive refuses the
	// payment as too old to claim, so the set is bounded by the claim
	// window in ledger time, which a wallet clock set forward cannot move.
	Claims map[string]uint64
	// Sales and Bought are the payments received (a merchant's SE) and
	// made to merchants' devices, remembered for refunds until the ledger
	// floor passes their time + protocol.RefundWindow (refund.go).
	Sales  map[string]saleRec
	Bought map[string]boughtRec
	// Standing is the expiry of the standing request (0: none issued).
	Standing uint64
	// Swept is the cumulative sweep to the merchant account applied so
	// far (protocol.SyncResult.Swept); SyncLogged is the ledger time of the
	// last EntrySync entry.
	Swept      uint64
	SyncLogged uint64
	SyncAt     uint64 // counter of the last EntrySync entry
	// Hot is value received offline that no sync result has acknowledged
	// yet, per receive entry (hops.go). The rest of Balance is value the
	// ledger has seen.
	Hot []hotRec
	// DataKey seals what the app above keeps beside the SE (SealData):
	// its history and its channel key. Random, made at Create (or at the
	// first Open of a state from before it existed).
	DataKey []byte
	// Marks and Loads keep the archive (archive.go): when sync results
	// acknowledged the log, and the applied loads still in it.
	Marks []ackMark
	Loads map[uint64]loadRec
	// Reupload is the lowest counter at or below Acked that an upload
	// since the last applied result started from (0: none): the ledger
	// had lost the log from there, and the next result acknowledges it
	// anew (archive.go).
	Reupload uint64
}

type pendingPay struct {
	Payee    protocol.KeyID
	PayeeAlg protocol.Alg
	PayeeKey []byte
	Amount   uint64
	Counter  uint64
	Nonce    protocol.Nonce
	Refund   bool // a refund: not from the purse (refund.go)
}

type payRec struct{ Counter, Amount uint64 }

type nonceRec struct{ Amount, Expiry uint64 }

type paidRec struct{ Counter, Expiry uint64 }

// VSE is the virtual secure element. Its methods are safe for concurrent
// use. After a failed write it refuses everything (se.ErrBroken): what
// reached the disk is only known by opening it again.
type VSE struct {
	mu     sync.Mutex
	dir    string
	o      Options
	key    []byte
	hdr    header
	s      *state
	pinLen int // characters of the PIN that unlocked it (Limits.MinPIN)
	// unlockCode is the code Create made, until UnlockCode hands it out.
	unlockCode string
	signer     protocol.Ed25519Signer
	id         protocol.KeyID
	broken     bool
	// derived from s
	cert  *protocol.Certificate
	trust *protocol.Trust
	rl    *protocol.RevocationList
	// the log file's entries (plain and as stored) and its length
	spill    [][]byte
	spillRaw [][]byte
	logSize  int64
}

var (
	_ se.SE         = (*VSE)(nil)
	_ se.PINChanger = (*VSE)(nil)
)

// Create makes a new SE in dir (created if needed) with a fresh key,
// protected by pin, and an unlock code that sets a new PIN after a
// lockout (UnlockCode shows it once; ResetPIN).
func Create(dir, pin string, opts *Options) (*VSE, error) {
	o := opts.withDefaults()
	if n := utf8.RuneCountInString(pin); n < MinPINLen {
		return nil, se.Errorf(se.CodeWeakPIN, "the PIN has %d characters, at least %d are needed", n, MinPINLen)
	}
	if err := o.checkKDF(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, StateFile)); err == nil {
		return nil, fmt.Errorf("vse: %s already holds an SE", dir)
	}
	sk := newDataKey() // the state key: random, wrapped under the PIN and the unlock code
	if sk == nil {
		return nil, errors.New("vse: no randomness for the state key")
	}
	h, code, err := newHeader(o.KDF, pin, sk)
	if err != nil {
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	v := &VSE{dir: dir, o: o, hdr: h, key: sk, s: newState(seed), pinLen: utf8.RuneCountInString(pin), unlockCode: code}
	if v.s.DataKey = newDataKey(); v.s.DataKey == nil {
		return nil, errors.New("vse: no randomness for the data key")
	}
	if err := v.load(); err != nil {
		return nil, err
	}
	if err := writeTries(dir, 0, o.Hook); err != nil {
		return nil, err
	}
	if err := v.commit(); err != nil {
		return nil, err
	}
	return v, nil
}

func newState(seed []byte) *state {
	return &state{
		Seed:     seed,
		FirstLog: 1,
		Pending:  map[string]pendingPay{},
		Issued:   map[string]nonceRec{},
		Used:     map[string]uint64{},
		Paid:     map[string]paidRec{},
		Accepted: map[string]uint64{},
		Claims:   map[string]uint64{},
		Sales:    map[string]saleRec{},
		Bought:   map[string]boughtRec{},
	}
}

// Open unlocks the SE in dir. A wrong PIN returns se.ErrBadPIN; after
// MaxPINTries wrong PINs in a row it returns se.ErrLocked for ever.
func Open(dir, pin string, opts *Options) (*VSE, error) {
	o := opts.withDefaults()
	cleanTemp(dir)
	plain, key, h, err := unlock(dir, pin, o)
	if err != nil {
		return nil, err
	}
	v, err := openState(dir, o, h, key, plain, utf8.RuneCountInString(pin))
	if err != nil {
		return nil, err
	}
	s := v.s
	if len(s.DataKey) != chacha20poly1305.KeySize {
		// A state from before data sealing: give it its key now.
		if s.DataKey = newDataKey(); s.DataKey == nil {
			return nil, errors.New("vse: no randomness for the data key")
		}
		if err := v.commit(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// load derives the in-memory objects from s.
func (v *VSE) load() error {
	s := v.s
	if len(s.Seed) != ed25519.SeedSize {
		return errors.New("vse: state holds no key")
	}
	v.signer = protocol.Ed25519Signer{Key: ed25519.NewKeyFromSeed(s.Seed)}
	v.id = protocol.ComputeKeyID(v.signer.Alg(), v.signer.PublicKey())
	if s.Cert == nil {
		return nil
	}
	var dev protocol.Certificate
	var rl protocol.RevocationList
	if err := protocol.Unmarshal(s.Cert, &dev); err != nil {
		return err
	}
	if err := protocol.Unmarshal(s.RevList, &rl); err != nil {
		return err
	}
	t, err := buildTrust(s.Roots, s.Issuers)
	if err != nil {
		return err
	}
	v.cert, v.trust, v.rl = &dev, t, &rl
	return nil
}

func buildTrust(roots, issuers [][]byte) (*protocol.Trust, error) {
	var rs []*protocol.Certificate
	for _, b := range roots {
		c := new(protocol.Certificate)
		if err := protocol.Unmarshal(b, c); err != nil {
			return nil, err
		}
		rs = append(rs, c)
	}
	t, err := protocol.NewTrust(rs...)
	if err != nil {
		return nil, err
	}
	for _, b := range issuers {
		c := new(protocol.Certificate)
		if err := protocol.Unmarshal(b, c); err != nil {
			return nil, err
		}
		if err := t.AddIssuer(c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// commit stores the whole state: one atomic write. Any failure breaks the
// SE, since memory may now be ahead of the disk.
func (v *VSE) commit() error {
	if err := v.spillLog(); err != nil {
		v.broken = true
		return &se.Error{Code: se.CodeBroken, Detail: "log write failed; reopen the SE", Err: err}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v.s); err != nil {
		v.broken = true
		return err
	}
	file, err := seal(v.key, v.hdr, buf.Bytes())
	if err == nil {
		err = atomicfile.Write(v.dir, StateFile, file, v.o.Hook)
	}
	if err != nil {
		v.broken = true
		return &se.Error{Code: se.CodeBroken, Detail: "state write failed; reopen the SE", Err: err}
	}
	return nil
}

// begin locks v and checks it is usable. The caller must unlock.
func (v *VSE) begin(needCert bool) error {
	v.mu.Lock()
	if v.broken {
		v.mu.Unlock()
		return se.Errorf(se.CodeBroken, "a write failed; reopen the SE")
	}
	if needCert && v.cert == nil {
		v.mu.Unlock()
		return se.Errorf(se.CodeNotEnrolled, "no device certificate installed")
	}
	return nil
}

// clock is max(now, floor): a clock turned back never goes below the
// highest ledger-signed time the SE has seen.
func (v *VSE) clock(now uint64) uint64 { return max(now, v.s.Floor) }

// appendEntry signs the next log entry and links it into the chain.
func (v *VSE) appendEntry(kind protocol.EntryKind, t uint64, body []byte) error {
	e := protocol.LogEntry{
		Version: protocol.Version, Device: v.id, Counter: v.s.Counter + 1, Prev: v.s.Head,
		Kind: kind, Time: t, Body: body,
	}
	if err := e.Sign(v.signer); err != nil {
		return err
	}
	v.s.Counter++
	v.s.Head = e.Hash()
	v.s.Log = append(v.s.Log, e.Marshal())
	return nil
}

// StateSize returns the size in bytes of the encrypted state file.
func (v *VSE) StateSize() (int64, error) {
	fi, err := os.Stat(filepath.Join(v.dir, StateFile))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// ID returns the device ID (KeyID of the SE key).
func (v *VSE) ID() protocol.KeyID { return v.id }

// Certificate implements se.SE.
func (v *VSE) Certificate() *protocol.Certificate {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cert
}
