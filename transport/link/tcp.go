package link

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// DefaultTCPMTU is the frame limit of TCP links unless WithMTU says otherwise.
const DefaultTCPMTU = 4096

// MaxTCPMTU is the largest frame the 2-byte length prefix can describe.
const MaxTCPMTU = 65535

// An Option configures a TCP link.
type Option func(*tcpOptions)

type tcpOptions struct{ mtu int }

// WithMTU sets the largest frame a TCP link sends or accepts (1 to MaxTCPMTU). Both ends
// should agree; a frame over the receiver's limit closes the link.
func WithMTU(n int) Option { return func(o *tcpOptions) { o.mtu = n } }

func tcpOpts(opts []Option) (tcpOptions, error) {
	o := tcpOptions{mtu: DefaultTCPMTU}
	for _, f := range opts {
		f(&o)
	}
	if o.mtu < 1 || o.mtu > MaxTCPMTU {
		return o, fmt.Errorf("link: TCP MTU %d outside 1..%d", o.mtu, MaxTCPMTU)
	}
	return o, nil
}

// Dial opens a TCP link to addr. Each frame travels as a 2-byte big-endian length and
// the frame's bytes.
func Dial(ctx context.Context, addr string, opts ...Option) (*TCPConn, error) {
	o, err := tcpOpts(opts)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return newTCPConn(nc, o.mtu), nil
}

// Listener accepts TCP links.
type Listener struct {
	l   net.Listener
	mtu int
}

// Listen listens for TCP links on addr (for example "127.0.0.1:0").
func Listen(addr string, opts ...Option) (*Listener, error) {
	o, err := tcpOpts(opts)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Listener{l: l, mtu: o.mtu}, nil
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.l.Addr() }

// Close stops listening; links already accepted stay open.
func (l *Listener) Close() error { return l.l.Close() }

// Accept waits for the next link.
func (l *Listener) Accept(ctx context.Context) (*TCPConn, error) {
	stop := context.AfterFunc(ctx, func() {
		if tl, ok := l.l.(*net.TCPListener); ok {
			_ = tl.SetDeadline(time.Unix(1, 0))
		}
	})
	nc, err := l.l.Accept()
	if !stop() {
		if tl, ok := l.l.(*net.TCPListener); ok {
			_ = tl.SetDeadline(time.Time{})
		}
		if nc != nil {
			_ = nc.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return newTCPConn(nc, l.mtu), nil
}

// TCPConn is a frame link over TCP. It implements Conn.
type TCPConn struct {
	nc  net.Conn
	mtu int

	frames chan []byte   // filled by the reader goroutine
	done   chan struct{} // closed when the reader stops
	err    error         // why the reader stopped; read after done is closed

	sendMu    sync.Mutex
	closeOnce sync.Once
	closed    chan struct{}
}

var _ Conn = (*TCPConn)(nil)

func newTCPConn(nc net.Conn, mtu int) *TCPConn {
	c := &TCPConn{nc: nc, mtu: mtu, frames: make(chan []byte, 16), done: make(chan struct{}), closed: make(chan struct{})}
	go c.readLoop()
	return c
}

// readLoop reads whole frames, so that a Recv cancelled by its context never leaves the
// stream in the middle of a frame.
func (c *TCPConn) readLoop() {
	defer close(c.done)
	r := bufio.NewReader(c.nc)
	var hdr [2]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			c.err = c.readErr(err)
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n > c.mtu {
			c.err = fmt.Errorf("%w: peer sent %d bytes, MTU %d", ErrFrameTooLarge, n, c.mtu)
			_ = c.nc.Close()
			return
		}
		f := make([]byte, n)
		if _, err := io.ReadFull(r, f); err != nil {
			c.err = c.readErr(err)
			return
		}
		select {
		case c.frames <- f:
		case <-c.closed:
			c.err = ErrClosed
			return
		}
	}
}

func (c *TCPConn) readErr(err error) error {
	select {
	case <-c.closed:
		return ErrClosed
	default:
	}
	return fmt.Errorf("%w: %w", ErrDisconnected, err)
}

// MTU returns the frame limit.
func (c *TCPConn) MTU() int { return c.mtu }

// Send writes one frame. If ctx ends in the middle of a write, the link is closed, as the
// stream can no longer be framed.
func (c *TCPConn) Send(ctx context.Context, frame []byte) error {
	if len(frame) > c.mtu {
		return fmt.Errorf("%w: %d bytes, MTU %d", ErrFrameTooLarge, len(frame), c.mtu)
	}
	select {
	case <-c.closed:
		return ErrClosed
	case <-c.done:
		return c.err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	buf := make([]byte, 2+len(frame))
	binary.BigEndian.PutUint16(buf, uint16(len(frame)))
	copy(buf[2:], frame)
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetWriteDeadline(time.Unix(1, 0)) })
	_, err := c.nc.Write(buf)
	if !stop() {
		_ = c.Close()
		return ctx.Err()
	}
	if err != nil {
		select {
		case <-c.closed:
			return ErrClosed
		default:
		}
		_ = c.Close()
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return nil
}

// Recv returns the next frame.
func (c *TCPConn) Recv(ctx context.Context) ([]byte, error) {
	select {
	case f := <-c.frames:
		return f, nil
	default:
	}
	select {
	case f := <-c.frames:
		return f, nil
	case <-c.done:
		// Frames read before the end are still delivered.
		select {
		case f := <-c.frames:
			return f, nil
		default:
		}
		return nil, c.err
	case <-c.closed:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close closes the link.
func (c *TCPConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.nc.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
	})
	return err
}
