package channel

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/flynn/noise"
	"github.com/offpay/offpay/transport/link"
)

// MaxMessage is the largest message a Session carries: Noise's 65535-byte limit less the
// 16-byte tag.
const MaxMessage = 65535 - tagLen

// Errors returned by this package. Match them with errors.Is; link errors
// (link.ErrDisconnected, ...) and context errors come through wrapped.
var (
	ErrHandshake       = errors.New("channel: handshake failed")
	ErrUnknownPairing  = errors.New("channel: unknown pairing secret")
	ErrPairingUsed     = errors.New("channel: pairing secret already used")
	ErrPairingExpired  = errors.New("channel: pairing secret expired")
	ErrTooManyPairings = errors.New("channel: too many outstanding pairings")
	ErrCorrupt         = errors.New("channel: malformed or unauthenticated record")
	ErrTooLarge        = errors.New("channel: message too large")
	ErrBroken          = errors.New("channel: session broken by an interrupted send")
	errBadKey          = errors.New("channel: bad key")
)

// A Session is an open channel: messages of up to MaxMessage bytes, encrypted and
// authenticated, in order. Send and Recv may run concurrently with each other.
type Session struct {
	conn    link.Conn
	binding []byte
	resume  Pairing
	// On the responder's side: the ID of the pairing that opened the
	// session, and whether it was a resumption pairing.
	opened  [IDLen]byte
	resumed bool

	sendMu  sync.Mutex
	send    *noise.CipherState
	sendErr error

	recvMu sync.Mutex
	recv   *noise.CipherState
	rd     reader
}

func newSession(c link.Conn, send, recv *noise.CipherState, binding []byte) *Session {
	return &Session{conn: c, send: send, recv: recv, binding: binding, rd: reader{c: c, limit: maxRecord}}
}

// Send encrypts msg and sends it as one record, fragmented to the link's MTU. If ctx ends
// or the link fails in the middle, the session is broken (ErrBroken from then on): the
// peer cannot tell where the record stopped.
func (s *Session) Send(ctx context.Context, msg []byte) error {
	if len(msg) > MaxMessage {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(msg), MaxMessage)
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sendErr != nil {
		return s.sendErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ct, err := s.send.Encrypt(nil, nil, msg)
	if err != nil {
		return err
	}
	if err := writeRecord(ctx, s.conn, kindData, ct); err != nil {
		s.sendErr = fmt.Errorf("%w: %w", ErrBroken, err)
		return err
	}
	return nil
}

// Recv returns the next message. A malformed, oversize or unauthenticated record gives
// ErrCorrupt or ErrTooLarge and is dropped; the session stays usable. When ctx ends,
// Recv returns and a later Recv carries on where it stopped.
func (s *Session) Recv(ctx context.Context) ([]byte, error) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	kind, body, err := s.rd.read(ctx)
	if err != nil {
		return nil, err
	}
	if kind != kindData {
		return nil, fmt.Errorf("%w: record %#x after the handshake", ErrCorrupt, kind)
	}
	// A failed Decrypt does not advance the nonce, so a forged record costs nothing.
	msg, err := s.recv.Decrypt(nil, nil, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return msg, nil
}

// Call sends req and returns the next message received. It does not retry: after a
// drop, Dial again (with Resumption) and repeat the request. Whether a repeated request
// is answered as the first one was is up to the application: for payments,
// internal/exchange's Payee answers a repeated bundle with the receipt already issued
// (wallet.Wallet.AcceptRetry), and exchange.PayRetry does the payer's part.
func (s *Session) Call(ctx context.Context, req []byte) ([]byte, error) {
	if err := s.Send(ctx, req); err != nil {
		return nil, err
	}
	return s.Recv(ctx)
}

// Resumption returns the pairing that reopens a channel to the same responder once,
// within the responder's ResumeWindow, without a new QR code. On the responder, ok is
// false when it could not store the secret (MaxPending reached); the initiator cannot
// know that, and dialing with such a pairing gets ErrUnknownPairing.
func (s *Session) Resumption() (p Pairing, ok bool) {
	return s.resume, s.resume.Secret != nil
}

// ChannelBinding returns the Noise handshake hash, unique to this session, for binding
// application messages to the channel.
func (s *Session) ChannelBinding() []byte { return append([]byte(nil), s.binding...) }

// Opened returns, on the responder's side, the ID of the pairing that
// opened the session (Pairing.ID) and whether it was a resumption pairing
// (Resumption) rather than one from Responder.Pair. A responder that shows
// one pairing at a time (a terminal's code) learns from it that the
// pairing it shows is spent.
func (s *Session) Opened() (id [IDLen]byte, resumed bool) { return s.opened, s.resumed }

// Close closes the link.
func (s *Session) Close() error { return s.conn.Close() }
