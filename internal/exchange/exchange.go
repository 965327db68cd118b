// Package exchange runs the payment exchange over an encrypted proximity
// channel: the payer sends a payment bundle, the payee answers with its
// receipt or with a refusal the payer can show.
package exchange

import (
	"context"
	"errors"
	"fmt"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/transport/channel"
)

// refusal marks a payee's refusal on the channel: the byte 0xFF (never a
// protocol envelope type), then the reason as UTF-8.
const refusal = 0xFF

// ErrRefused is the payee's refusal of a payment; its text says why.
var ErrRefused = errors.New("payee refused the payment")

// Accept is the payee's side for one message: it turns a bundle envelope
// into a receipt envelope.
type Accept func(bundle []byte) (receipt []byte, err error)

// Serve answers payments on s until the peer closes the session or one
// payment was answered with a receipt (once is true), whichever comes first.
// It returns the receipts it sent.
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
		receipt, aerr := accept(msg)
		if aerr != nil {
			reason := aerr.Error()
			if len(reason) > 512 {
				reason = reason[:512]
			}
			if err := s.Send(ctx, append([]byte{refusal}, reason...)); err != nil {
				return n, err
			}
			continue
		}
		if err := s.Send(ctx, receipt); err != nil {
			return n, err
		}
		n++
		if once {
			return n, nil
		}
	}
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
