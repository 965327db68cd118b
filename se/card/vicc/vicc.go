// Package vicc plugs a card into vsmartcard's virtual reader (vpcd, a
// pcscd driver): the card connects to the reader's TCP port and answers
// what pcscd sends through it, each message a 2-byte big-endian length
// and its bytes. A 1-byte message is a control: power off (0), power on
// (1), reset (2), get the ATR (4, answered with the ATR).
package vicc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// DefaultPort is the port of vpcd's first reader.
const DefaultPort = 35963

// Card is what sits in the reader.
type Card interface {
	// Process answers one command APDU.
	Process(cmd []byte) []byte
	// Reset is a power cycle or reset: volatile state goes.
	Reset()
}

// ATR is the card's answer to reset: T=1 (TD1 0x80, TD2 0x01) and the
// historical bytes "offpay", with its check byte.
var ATR = atr([]byte("offpay"))

func atr(hist []byte) []byte {
	b := []byte{0x3B, 0x80 | byte(len(hist)), 0x80, 0x01}
	b = append(b, hist...)
	var tck byte
	for _, x := range b[1:] {
		tck ^= x
	}
	return append(b, tck)
}

// Control bytes of vpcd's protocol.
const (
	ctlPowerOff = 0
	ctlPowerOn  = 1
	ctlReset    = 2
	ctlATR      = 4
)

// Dial connects to vpcd at addr ("host:port"), retrying until timeout
// (pcscd may still be starting).
func Dial(addr string, timeout time.Duration) (net.Conn, error) {
	end := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c, nil
		}
		if time.Now().After(end) {
			return nil, fmt.Errorf("vicc: no virtual reader at %s: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Serve answers conn for card until conn closes (the card is taken out:
// nil) or a message breaks the protocol.
func Serve(conn net.Conn, card Card) error {
	for {
		quickAck(conn)
		msg, err := read(conn)
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(msg) == 1 {
			switch msg[0] {
			case ctlPowerOff, ctlPowerOn, ctlReset:
				card.Reset()
			case ctlATR:
				if err := write(conn, ATR); err != nil {
					return err
				}
			default:
				return fmt.Errorf("vicc: unknown control byte %d", msg[0])
			}
			continue
		}
		if err := write(conn, card.Process(msg)); err != nil {
			return err
		}
	}
}

func read(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

func write(w io.Writer, b []byte) error {
	if len(b) > 0xFFFF {
		return fmt.Errorf("vicc: answer of %d bytes", len(b))
	}
	out := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(out, uint16(len(b)))
	copy(out[2:], b)
	_, err := w.Write(out)
	return err
}
