package channel

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"time"
)

// Defaults of ResponderConfig.
const (
	DefaultPairingTTL   = 5 * time.Minute
	DefaultResumeWindow = 2 * time.Minute
	DefaultMaxPending   = 1024
)

// A Pairing is what an initiator needs to open a channel to one responder: the responder's
// static X25519 public key and a one-time 32-byte secret. The payee shows it in its QR
// code. A Pairing from Session.Resumption has the same form.
type Pairing struct {
	StaticPublic []byte // 32 bytes
	Secret       []byte // 32 bytes, used as the Noise PSK
}

// ID returns the public identifier of the pairing's secret, sent in clear in the first
// handshake message so the responder knows which secret to use. It reveals nothing about
// the secret.
func (p Pairing) ID() [IDLen]byte { return pairingID(p.Secret) }

// IDLen is the length of a pairing ID.
const IDLen = 8

func pairingID(secret []byte) [IDLen]byte {
	h := sha256.New()
	h.Write([]byte("offpay/channel/v1 pairing id"))
	h.Write(secret)
	return [IDLen]byte(h.Sum(nil))
}

// ResponderConfig tunes a Responder. Zero fields take the defaults.
type ResponderConfig struct {
	PairingTTL   time.Duration    // how long an unused secret from Pair stays valid
	ResumeWindow time.Duration    // how long a session's resumption secret stays valid
	MaxPending   int              // most unused secrets and resumption secrets held
	Now          func() time.Time // the clock (default time.Now)
	Rand         io.Reader        // randomness (default crypto/rand)
}

// A Responder is the payee's end: it issues pairings and accepts channels. It is safe for
// concurrent use; accept as many links at once as needed.
type Responder struct {
	static *ecdh.PrivateKey
	cfg    ResponderConfig

	mu      sync.Mutex
	secrets map[[IDLen]byte]*secretEntry
}

type secretEntry struct {
	secret  []byte
	expires time.Time
	used    bool
	resume  bool // a resumption secret rather than one from Pair
}

// NewResponder returns a Responder for the static X25519 key.
func NewResponder(static *ecdh.PrivateKey, cfg ResponderConfig) (*Responder, error) {
	if static == nil || static.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("channel: responder needs an X25519 key")
	}
	if cfg.PairingTTL <= 0 {
		cfg.PairingTTL = DefaultPairingTTL
	}
	if cfg.ResumeWindow <= 0 {
		cfg.ResumeWindow = DefaultResumeWindow
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Responder{static: static, cfg: cfg, secrets: make(map[[IDLen]byte]*secretEntry)}, nil
}

// Pair issues a fresh one-time pairing. Its secret opens one channel, within PairingTTL.
func (r *Responder) Pair() (Pairing, error) {
	secret := make([]byte, 32)
	if _, err := io.ReadFull(r.cfg.Rand, secret); err != nil {
		return Pairing{}, err
	}
	if err := r.add(secret, r.cfg.PairingTTL, false); err != nil {
		return Pairing{}, err
	}
	return Pairing{StaticPublic: r.static.PublicKey().Bytes(), Secret: secret}, nil
}

func (r *Responder) add(secret []byte, ttl time.Duration, resume bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	r.sweepLocked(now)
	if len(r.secrets) >= r.cfg.MaxPending {
		return ErrTooManyPairings
	}
	r.secrets[pairingID(secret)] = &secretEntry{secret: secret, expires: now.Add(ttl), resume: resume}
	return nil
}

// sweepLocked forgets secrets expired for more than their lifetime again; until then an
// expired or used secret is remembered so that its use gets a precise error.
func (r *Responder) sweepLocked(now time.Time) {
	for id, e := range r.secrets {
		ttl := r.cfg.PairingTTL
		if e.resume {
			ttl = r.cfg.ResumeWindow
		}
		if now.After(e.expires.Add(ttl)) {
			delete(r.secrets, id)
		}
	}
}

// lookup returns the secret for id without consuming it, and whether it
// is a resumption secret.
func (r *Responder) lookup(id [IDLen]byte) ([]byte, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	r.sweepLocked(now)
	e, ok := r.secrets[id]
	switch {
	case !ok:
		return nil, false, ErrUnknownPairing
	case e.used:
		return nil, false, ErrPairingUsed
	case now.After(e.expires):
		return nil, false, ErrPairingExpired
	}
	return e.secret, e.resume, nil
}

// consume marks id used; it fails if a concurrent handshake used it first.
func (r *Responder) consume(id [IDLen]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.secrets[id]
	if !ok {
		return ErrUnknownPairing
	}
	if e.used {
		return ErrPairingUsed
	}
	e.used, e.secret = true, nil
	return nil
}
