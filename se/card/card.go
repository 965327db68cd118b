// Package card is an se.SE on a smart card: every operation is the APDU
// exchange of spec/card/CARD.md, sent through a Transmitter (a PC/SC
// card connection, se/card/pcsc). The card holds the key and the purse;
// this process holds neither.
package card

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/apdu"
)

// Transmitter sends one command APDU and returns the response APDU.
type Transmitter interface {
	Transmit(cmd []byte) ([]byte, error)
}

// Reconnecter is a Transmitter whose connection can be made again after
// the card was reset, or taken out and put back.
type Reconnecter interface {
	Reconnect() error
}

// ErrNoAnswer is a command the reader passed on without an answer coming
// back (vpcd says so when its card left mid-command): whether the card
// executed it is unknown, so an operation is retried only where the SE
// makes a retry safe (Pay gives the same payment again).
var ErrNoAnswer = errors.New("card: no answer from the card (taken out of the reader?)")

// Card is the se.SE (and se.DataSealer) of the card behind a Transmitter.
// Its methods are safe for concurrent use: the card serves one command
// chain at a time.
type Card struct {
	t     Transmitter
	mu    chan struct{} // one exchange at a time (a lock that a chain holds)
	trips atomic.Uint64
}

var (
	_ se.SE         = (*Card)(nil)
	_ se.DataSealer = (*Card)(nil)
	_ se.PINChanger = (*Card)(nil)
)

// Open selects the applet on the card behind t and verifies pin.
func Open(t Transmitter, pin string) (*Card, error) {
	c := &Card{t: t, mu: make(chan struct{}, 1)}
	if err := c.Login(pin); err != nil {
		return nil, err
	}
	return c, nil
}

// Login selects the applet and verifies pin: after Open, and again after
// the card was reset or put back (Resume).
func (c *Card) Login(pin string) error {
	if _, err := c.exchange(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsSelect, P1: 0x04, Data: apdu.AID}); err != nil {
		return fmt.Errorf("card: select the offpay applet: %w", err)
	}
	_, err := c.exchange(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsVerify, P2: 0x80, Data: []byte(pin)})
	return err
}

// Resume connects again (if the Transmitter can) and logs in: a card that
// was taken out mid-payment and put back.
func (c *Card) Resume(pin string) error {
	if r, ok := c.t.(Reconnecter); ok {
		if err := r.Reconnect(); err != nil {
			return err
		}
	}
	return c.Login(pin)
}

// TriesLeft asks the card how many wrong PINs it still allows (VERIFY
// without data): -1 when the PIN is verified, 0 when locked.
func (c *Card) TriesLeft() (int, error) {
	_, err := c.exchange(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsVerify, P2: 0x80})
	var se1 *apdu.StatusError
	switch {
	case err == nil:
		return -1, nil
	case se.CodeOf(err) == se.CodeLocked:
		return 0, nil
	case errors.As(err, &se1):
		return 0, err
	}
	var r *Refusal
	if errors.As(err, &r) {
		return r.Tries, nil
	}
	return 0, err
}

// RoundTrips is the number of APDUs exchanged so far.
func (c *Card) RoundTrips() uint64 { return c.trips.Load() }

// Refusal carries the tries left of a wrong PIN beside the SE error.
type Refusal struct {
	Err   *se.Error
	Tries int
}

func (r *Refusal) Error() string { return fmt.Sprintf("%v (%d tries left)", r.Err, r.Tries) }

// Unwrap exposes the SE error.
func (r *Refusal) Unwrap() error { return r.Err }

// exchange sends one command (chained if its data is long), fetches the
// whole answer (GET RESPONSE while the card says 61xx) and turns a status
// word other than 9000 into an error.
func (c *Card) exchange(cmd apdu.Command) ([]byte, error) {
	c.mu <- struct{}{}
	defer func() { <-c.mu }()
	data := cmd.Data
	for len(data) > apdu.MaxBlock {
		blk := cmd
		blk.Cla |= apdu.Chain
		blk.Data, blk.Le = data[:apdu.MaxBlock], 0
		r, err := c.transmit(blk)
		if err != nil {
			return nil, err
		}
		if r.SW != apdu.SWOK {
			return nil, statusErr(r)
		}
		data = data[apdu.MaxBlock:]
	}
	cmd.Data, cmd.Le = data, apdu.MaxResponse
	r, err := c.transmit(cmd)
	if err != nil {
		return nil, err
	}
	out := r.Data
	for r.SW&0xFF00 == apdu.SWMoreData {
		le := int(r.SW & 0xFF)
		if le == 0 {
			le = apdu.MaxResponse
		}
		if len(out)+le > apdu.MaxMessage {
			return nil, fmt.Errorf("card: answer longer than %d bytes", apdu.MaxMessage)
		}
		if r, err = c.transmit(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsGetResponse, Le: le}); err != nil {
			return nil, err
		}
		out = append(out, r.Data...)
	}
	if r.SW != apdu.SWOK {
		return nil, statusErr(r)
	}
	return out, nil
}

func statusErr(r apdu.Response) error {
	err := apdu.ErrorOf(r)
	var e *se.Error
	if errors.As(err, &e) && e.Code == se.CodeBadPIN {
		return &Refusal{Err: e, Tries: int(r.SW & 0x0F)}
	}
	return err
}

func (c *Card) transmit(cmd apdu.Command) (apdu.Response, error) {
	c.trips.Add(1)
	b, err := c.t.Transmit(cmd.Marshal())
	if err != nil {
		return apdu.Response{}, err
	}
	if len(b) < 2 {
		return apdu.Response{}, ErrNoAnswer
	}
	return apdu.ParseResponse(b)
}

// call runs proprietary command ins with args (nil: no data) and returns
// the answer's data.
func (c *Card) call(ins byte, args any) ([]byte, error) {
	var data []byte
	if args != nil {
		var err error
		if data, err = apdu.Enc.Marshal(args); err != nil {
			return nil, err
		}
	}
	return c.exchange(apdu.Command{Cla: apdu.ClaProprietary, Ins: ins, Data: data})
}

// answer decodes an answer holding one protocol message into m. A card
// answering what is not such a message is a broken card: the answer is
// refused as a protocol error.
func answer[M protocol.Message](b []byte, err error, m M) (M, error) {
	var zero M
	if err != nil {
		return zero, err
	}
	if err := protocol.Unmarshal(b, m); err != nil {
		return zero, fmt.Errorf("card: its answer: %w", err)
	}
	return m, nil
}

// ChangePIN implements se.PINChanger: CHANGE REFERENCE DATA with the new
// PIN, in this session (the current PIN verified by Open or Login). It
// returns the card's first unlock code if the card had none, else "".
func (c *Card) ChangePIN(pin string) (string, error) {
	if pin == "" {
		return "", se.Errorf(se.CodeWeakPIN, "an empty PIN")
	}
	b, err := c.exchange(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsChangePIN, P1: 0x01, P2: 0x80, Data: []byte(pin)})
	return string(b), err
}

// NewUnlockCode implements se.PINChanger: NEW UNLOCK CODE. The card's old
// code stops working; the new one is returned to show once.
func (c *Card) NewUnlockCode() (string, error) {
	b, err := c.call(apdu.InsNewUnlockCode, nil)
	return string(b), err
}

// Unlock selects the applet on the card behind t and sends RESET RETRY
// COUNTER: the unlock code sets pin as the card's PIN and ends a lockout.
// A wrong code is se.ErrBadPIN (a *Refusal with the PIN tries left), is
// not counted, and changes nothing. The card is then open under pin.
func Unlock(t Transmitter, code, pin string) (*Card, error) {
	c := &Card{t: t, mu: make(chan struct{}, 1)}
	if _, err := c.exchange(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsSelect, P1: 0x04, Data: apdu.AID}); err != nil {
		return nil, fmt.Errorf("card: select the offpay applet: %w", err)
	}
	data, err := apdu.Enc.Marshal(apdu.UnlockArgs{Code: code, PIN: pin})
	if err != nil {
		return nil, err
	}
	if _, err := c.exchange(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsUnlock, P2: 0x80, Data: data}); err != nil {
		return nil, err
	}
	return c, nil
}
