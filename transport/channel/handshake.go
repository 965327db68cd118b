package channel

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/flynn/noise"
	"github.com/offpay/offpay/transport/link"
)

// Version is the channel protocol version, the first byte of the first handshake message.
const Version = 1

const prologueLabel = "offpay/channel/v1"

// Reject codes, sent by a responder that refuses a handshake.
const (
	rejectMalformed = 1
	rejectUnknown   = 2
	rejectUsed      = 3
	rejectExpired   = 4
	rejectAuth      = 5
	rejectBusy      = 6
)

var rejectErrors = map[byte]error{
	rejectMalformed: ErrCorrupt,
	rejectUnknown:   ErrUnknownPairing,
	rejectUsed:      ErrPairingUsed,
	rejectExpired:   ErrPairingExpired,
	rejectAuth:      ErrHandshake,
	rejectBusy:      ErrTooManyPairings,
}

func rejectCode(err error) byte {
	for code, e := range rejectErrors {
		if errors.Is(err, e) {
			return code
		}
	}
	return rejectMalformed
}

func handshakeConfig(initiator bool, id [IDLen]byte, psk []byte, dh *dh25519) noise.Config {
	return noise.Config{
		CipherSuite:           dh.suite(),
		Random:                rand.Reader,
		Pattern:               noise.HandshakeNK,
		Initiator:             initiator,
		Prologue:              append([]byte(prologueLabel), id[:]...),
		PresharedKey:          psk,
		PresharedKeyPlacement: 0,
	}
}

// Dial opens a channel to the responder named by p, over c. It gives ErrUnknownPairing,
// ErrPairingUsed or ErrPairingExpired when the responder refuses the secret, and
// ErrHandshake when the handshake fails (a wrong static key, a man in the middle).
func Dial(ctx context.Context, c link.Conn, p Pairing) (*Session, error) {
	if len(p.StaticPublic) != 32 || len(p.Secret) != 32 {
		return nil, fmt.Errorf("%w: pairing needs a 32-byte key and a 32-byte secret", errBadKey)
	}
	id := p.ID()
	cfg := handshakeConfig(true, id, p.Secret, newDH(nil))
	cfg.PeerStatic = p.StaticPublic
	hs, err := noise.NewHandshakeState(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	msg1, _, _, err := hs.WriteMessage(append([]byte{Version}, id[:]...), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	if err := writeRecord(ctx, c, kindHandshake, msg1); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	rd := &reader{c: c, limit: maxHandshakeRecord}
	kind, body, err := rd.read(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	switch {
	case kind == kindReject && len(body) == 1 && rejectErrors[body[0]] != nil:
		return nil, fmt.Errorf("%w: refused by the responder", rejectErrors[body[0]])
	case kind != kindHandshake:
		return nil, fmt.Errorf("%w: unexpected record %#x", ErrHandshake, kind)
	}
	_, send, recv, err := hs.ReadMessage(nil, body)
	if err != nil || send == nil {
		return nil, fmt.Errorf("%w: responder not authenticated: %v", ErrHandshake, err)
	}
	s := newSession(c, send, recv, hs.ChannelBinding())
	s.resume = Pairing{StaticPublic: p.StaticPublic, Secret: resumptionSecret(send, recv, s.binding)}
	return s, nil
}

// Accept runs the responder's side of a handshake on c. A failed handshake changes
// nothing in the Responder (a secret is consumed only by a handshake that proves it) and
// tells the initiator why; the caller should then close c.
func (r *Responder) Accept(ctx context.Context, c link.Conn) (*Session, error) {
	s, err := r.accept(ctx, c)
	if err != nil && !errors.Is(err, link.ErrDisconnected) && !errors.Is(err, link.ErrClosed) && ctx.Err() == nil {
		_ = writeRecord(ctx, c, kindReject, []byte{rejectCode(err)})
	}
	return s, err
}

func (r *Responder) accept(ctx context.Context, c link.Conn) (*Session, error) {
	rd := &reader{c: c, limit: maxHandshakeRecord}
	kind, body, err := rd.read(ctx)
	if err != nil {
		return nil, err
	}
	if kind != kindHandshake || len(body) < 1+IDLen || body[0] != Version {
		return nil, fmt.Errorf("%w: not a version %d handshake", ErrCorrupt, Version)
	}
	id := [IDLen]byte(body[1 : 1+IDLen])
	psk, resumed, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	dh := newDH(r.static)
	cfg := handshakeConfig(false, id, psk, dh)
	cfg.StaticKeypair = noise.DHKey{Private: r.static.Bytes(), Public: r.static.PublicKey().Bytes()}
	hs, err := noise.NewHandshakeState(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	if _, _, _, err := hs.ReadMessage(nil, body[1+IDLen:]); err != nil {
		return nil, fmt.Errorf("%w: initiator does not hold the secret for this key: %v", ErrHandshake, err)
	}
	// Only now, with the secret proven, is it spent; a concurrent replay loses here.
	if err := r.consume(id); err != nil {
		return nil, err
	}
	msg2, recv, send, err := hs.WriteMessage(nil, nil)
	if err != nil || send == nil {
		return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	s := newSession(c, send, recv, hs.ChannelBinding())
	s.opened, s.resumed = id, resumed
	secret := resumptionSecret(recv, send, s.binding)
	if r.add(secret, r.cfg.ResumeWindow, true) == nil {
		s.resume = Pairing{StaticPublic: r.static.PublicKey().Bytes(), Secret: secret}
	}
	if err := writeRecord(ctx, c, kindHandshake, msg2); err != nil {
		return nil, err
	}
	return s, nil
}

// resumptionSecret derives the secret for the next handshake from the session keys (so it
// depends on every DH and the PSK) and the handshake hash.
func resumptionSecret(i2r, r2i *noise.CipherState, binding []byte) []byte {
	k1, k2 := i2r.UnsafeKey(), r2i.UnsafeKey()
	secret, err := hkdf.Key(sha256.New, append(k1[:], k2[:]...), binding, prologueLabel+" resumption", 32)
	if err != nil {
		panic(err) // only for lengths beyond HKDF's limit
	}
	return secret
}
