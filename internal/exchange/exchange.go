// Package exchange runs the payment exchange over an encrypted proximity
// channel: the payer sends a payment bundle, the payee answers with its
// receipt or with a refusal the payer can show, and the payer acknowledges
// the receipt.
//
// # Messages
//
// Payer to payee: a payment bundle envelope; the single byte 0xFE (done:
// the payer holds the receipt of the last payment on this session and will
// send nothing more); or 0xFD followed by a reason in UTF-8 (gave up: the
// payer's wallet could not pay the request, and sends nothing more).
// Payee to payer: a receipt envelope, or 0xFF followed by the refusal's
// reason in UTF-8. None of these bytes is a protocol envelope type.
//
// # Drops and retries
//
// A dropped link loses whatever was in flight. The payer (PayRetry) then
// reopens the channel with the session's resumption pairing and sends the
// same bundle again; the payee's Handler answers a payment it accepted
// before with the receipt it issued then (wallet.AcceptRetry), so a retry
// never credits or debits twice and the payer ends with the same receipt.
// The payee (Payee) keeps accepting resumed sessions while a receipt it
// sent has not been acknowledged, for Linger.
package exchange

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
)

const (
	// refusal marks a payee's refusal: 0xFF, then the reason as UTF-8.
	refusal = 0xFF
	// done is the payer's acknowledgement of the last receipt.
	done = 0xFE
	// gaveUp marks a payer that cannot pay: 0xFD, then the reason as UTF-8.
	gaveUp = 0xFD
	// maxReason bounds the refusal reason sent to the payer.
	maxReason = 512
)

// ErrRefused is the payee's refusal of a payment; its text says why.
var ErrRefused = errors.New("payee refused the payment")

// Accept is the payee's side for one message: it turns a bundle envelope
// into a receipt envelope.
type Accept func(bundle []byte) (receipt []byte, err error)

// Handler is Accept for a payee that answers retries: repeat is true when
// the bundle's payment was accepted before and receipt is the receipt issued
// then (wallet.Wallet.AcceptRetry).
type Handler func(bundle []byte) (receipt []byte, repeat bool, err error)

// Serve answers payments on s until the peer closes the session or one
// payment was answered with a receipt (once is true), whichever comes first.
// It returns the receipts it sent. It does not wait for resumed sessions:
// use Payee for that.
func Serve(ctx context.Context, s *channel.Session, accept Accept, once bool) (int, error) {
	n := 0
	for {
		msg, err := s.Recv(ctx)
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return n, err
		}
		if (len(msg) == 1 && msg[0] == done) || (len(msg) > 0 && msg[0] == gaveUp) {
			return n, nil
		}
		receipt, aerr := accept(msg)
		if err := answer(ctx, s, receipt, aerr); err != nil {
			return n, err
		}
		if aerr != nil {
			continue
		}
		n++
		if once {
			return n, nil
		}
	}
}

// answer sends the receipt, or the refusal for aerr.
func answer(ctx context.Context, s *channel.Session, receipt []byte, aerr error) error {
	if aerr != nil {
		reason := aerr.Error()
		if len(reason) > maxReason {
			reason = reason[:maxReason]
		}
		return s.Send(ctx, append([]byte{refusal}, reason...))
	}
	return s.Send(ctx, receipt)
}

// Pay sends a bundle and waits for the receipt envelope.
func Pay(ctx context.Context, s *channel.Session, bundle []byte) ([]byte, error) {
	resp, err := s.Call(ctx, bundle)
	if err != nil {
		return nil, err
	}
	if len(resp) > 0 && resp[0] == refusal {
		return nil, fmt.Errorf("%w: %s", ErrRefused, resp[1:])
	}
	if len(resp) == 0 || protocol.Type(resp[0]) != protocol.TypeReceipt {
		return nil, fmt.Errorf("exchange: payee answered with something other than a receipt")
	}
	return resp, nil
}

// GiveUp tells the payee that this payer cannot pay on s (its wallet
// refused: not enough money, a limit, an expired request) and closes s. A
// payee showing one pairing code at a time then knows the code is spent
// and why, and shows the next customer a new one. Say no more in reason
// than the payee needs (not the purse's balance): it is shown to it.
func GiveUp(ctx context.Context, s *channel.Session, reason string) {
	defer s.Close()
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	ctx, cancel := context.WithTimeout(ctx, finishWait)
	defer cancel()
	if err := s.Send(ctx, append([]byte{gaveUp}, reason...)); err != nil {
		return
	}
	_, _ = s.Recv(ctx) // the payee closes once it has read it
}

// Dialer opens a new link to the payee, for a retry.
type Dialer func(ctx context.Context) (link.Conn, error)

// finishWait is how long the payer waits for the payee to close the session
// after its acknowledgement, so that the acknowledgement is not lost with a
// link that closes as soon as the payer closes it.
const finishWait = 2 * time.Second

// PayRetry pays bundle on s and, while the link drops before the receipt
// comes back, reopens the channel with dial and the last session's
// resumption pairing and sends the same bundle again, attempts times in
// all. It acknowledges the receipt and closes the session. A refusal, or a
// resumption the payee no longer knows, ends the retries: the payment then
// stays pending in the payer's wallet and settles at sync.
func PayRetry(ctx context.Context, s *channel.Session, dial Dialer, bundle []byte, attempts int) ([]byte, error) {
	if s == nil {
		return nil, errors.New("exchange: PayRetry needs an open session")
	}
	pairing, _ := s.Resumption()
	var lastErr error
	for i := 0; i < attempts; i++ {
		if s == nil {
			var err error
			if s, err = redial(ctx, dial, pairing); err != nil {
				if errors.Is(err, errNoResume) || ctx.Err() != nil {
					return nil, fmt.Errorf("exchange: %w (after: %w)", err, lastErr)
				}
				lastErr = err
				continue
			}
			pairing, _ = s.Resumption()
		}
		receipt, err := Pay(ctx, s, bundle)
		if err == nil {
			finish(ctx, s)
			return receipt, nil
		}
		s.Close()
		s = nil
		if errors.Is(err, ErrRefused) || ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("exchange: no receipt after %d attempts: %w", attempts, lastErr)
}

// errNoResume: the resumption pairing cannot open a channel any more.
var errNoResume = errors.New("the payee no longer takes this session's resumption")

func redial(ctx context.Context, dial Dialer, p channel.Pairing) (*channel.Session, error) {
	if p.Secret == nil {
		return nil, errNoResume
	}
	c, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	s, err := channel.Dial(ctx, c, p)
	if err != nil {
		c.Close()
		if errors.Is(err, channel.ErrPairingUsed) || errors.Is(err, channel.ErrPairingExpired) ||
			errors.Is(err, channel.ErrUnknownPairing) {
			return nil, fmt.Errorf("%w: %w", errNoResume, err)
		}
		return nil, err
	}
	return s, nil
}

// finish acknowledges the receipt and waits, briefly, for the payee to close.
func finish(ctx context.Context, s *channel.Session) {
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, finishWait)
	defer cancel()
	if err := s.Send(ctx, []byte{done}); err != nil {
		return
	}
	_, _ = s.Recv(ctx)
}
