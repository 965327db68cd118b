//go:build ble

package ble

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/offpay/offpay/transport/link"
	"tinygo.org/x/bluetooth"
)

// The offpay GATT service: the central writes frames to RX and the peripheral notifies
// frames on TX.
var (
	ServiceUUID = mustUUID("6f700001-8e2f-4a4b-9c35-6f6666706179")
	RXUUID      = mustUUID("6f700002-8e2f-4a4b-9c35-6f6666706179")
	TXUUID      = mustUUID("6f700003-8e2f-4a4b-9c35-6f6666706179")
)

func mustUUID(s string) bluetooth.UUID {
	u, err := bluetooth.ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

// DefaultATTMTU is assumed when the stack does not report the negotiated MTU.
const DefaultATTMTU = 23

// ErrEmptyFrame: BLE cannot carry an empty frame (a zero-length write is a no-op).
var ErrEmptyFrame = errors.New("ble: empty frame")

// conn is a link.Conn over a pair of GATT characteristics. Every frame on the air starts
// with a sequence byte: it makes consecutive notifications differ (BlueZ reports a value
// change, and a repeated value could be swallowed) and exposes a lost frame, which ends
// the link as a drop would.
type conn struct {
	mtu   int // link frame size: ATT MTU - 3 - 1
	write func([]byte) error
	stop  func()

	inbox    chan []byte
	recvSeq  byte
	sendMu   sync.Mutex
	sendSeq  byte
	downOnce sync.Once
	down     chan struct{}
	downErr  error
}

var _ link.Conn = (*conn)(nil)

func newConn(attMTU int, write func([]byte) error, stop func()) *conn {
	if attMTU < link.MinATTMTU {
		attMTU = DefaultATTMTU
	}
	return &conn{mtu: attMTU - 4, write: write, stop: stop, inbox: make(chan []byte, 256), down: make(chan struct{})}
}

// deliver is called by the stack with one received value.
func (c *conn) deliver(v []byte) {
	if len(v) == 0 {
		return
	}
	if v[0] != c.recvSeq {
		c.fail(fmt.Errorf("%w: frame %d lost", link.ErrDisconnected, c.recvSeq))
		return
	}
	c.recvSeq++
	select {
	case c.inbox <- append([]byte(nil), v[1:]...):
	case <-c.down:
	default:
		c.fail(fmt.Errorf("%w: receive queue overflow", link.ErrDisconnected))
	}
}

func (c *conn) fail(err error) {
	c.downOnce.Do(func() {
		c.downErr = err
		close(c.down)
		if c.stop != nil {
			c.stop()
		}
	})
}

func (c *conn) MTU() int { return c.mtu }

func (c *conn) Send(ctx context.Context, frame []byte) error {
	if len(frame) > c.mtu {
		return fmt.Errorf("%w: %d bytes, MTU %d", link.ErrFrameTooLarge, len(frame), c.mtu)
	}
	if len(frame) == 0 {
		return ErrEmptyFrame
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	select {
	case <-c.down:
		return c.downErr
	default:
	}
	buf := append([]byte{c.sendSeq}, frame...)
	if err := c.write(buf); err != nil {
		err = fmt.Errorf("%w: %w", link.ErrDisconnected, err)
		c.fail(err)
		return err
	}
	c.sendSeq++
	return nil
}

// Recv returns frames received before a failure before reporting it.
func (c *conn) Recv(ctx context.Context) ([]byte, error) {
	select {
	case f := <-c.inbox:
		return f, nil
	default:
	}
	select {
	case f := <-c.inbox:
		return f, nil
	case <-c.down:
		return nil, c.downErr
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *conn) Close() error {
	c.fail(link.ErrClosed)
	return nil
}
