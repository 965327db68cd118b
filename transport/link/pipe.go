package link

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// ATT MTU limits of Bluetooth LE. A GATT write or notification carries ATT MTU - 3 bytes.
const (
	MinATTMTU = 23
	MaxATTMTU = 247
)

// Config describes an emulated Bluetooth LE connection. Zero fields take the defaults
// noted, which resemble a phone talking to a phone.
type Config struct {
	// ATTMTU is the negotiated ATT MTU, MinATTMTU to MaxATTMTU (default 247); frames
	// carry ATTMTU-3 bytes.
	ATTMTU int
	// Interval is the connection interval (default 15 ms). Packets move only at
	// connection events, one per interval.
	Interval time.Duration
	// PacketsPerEvent is the most frames sent per direction in one connection event
	// (default 4), bounding throughput together with PHYRate.
	PacketsPerEvent int
	// PHYRate is the air bit rate (default 1 Mbit/s, LE 1M). A frame of n bytes takes
	// (n+17)*8 bits plus 300 microseconds of inter-frame spaces and acknowledgement; the
	// frames of one event must fit in the interval.
	PHYRate int
	// Latency is added to every frame's delivery (processing and stack delays; default 0).
	Latency time.Duration
	// Loss is the probability that one transmission of a frame is lost. As in BLE, the
	// link layer retransmits it at the next event and holds later frames back, so loss
	// shows as delay, never as a missing frame.
	Loss float64
	// DropRate is the probability, per transmission, that the connection drops.
	DropRate float64
	// TimeScale is the real time per emulated second (default 1); 0.1 runs ten times
	// faster than a real link, with the same emulated behaviour.
	TimeScale float64
	// Rand seeds the emulator's randomness (default a fixed seed), so that runs with the
	// same Config and the same traffic repeat.
	Rand rand.Source
}

func (c Config) withDefaults() (Config, error) {
	if c.ATTMTU == 0 {
		c.ATTMTU = MaxATTMTU
	}
	if c.ATTMTU < MinATTMTU || c.ATTMTU > MaxATTMTU {
		return c, fmt.Errorf("link: ATT MTU %d outside %d..%d", c.ATTMTU, MinATTMTU, MaxATTMTU)
	}
	if c.Interval == 0 {
		c.Interval = 15 * time.Millisecond
	}
	if c.PacketsPerEvent == 0 {
		c.PacketsPerEvent = 4
	}
	if c.PHYRate == 0 {
		c.PHYRate = 1_000_000
	}
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	if c.Rand == nil {
		c.Rand = rand.NewPCG(1, 2)
	}
	if c.Interval < 0 || c.PacketsPerEvent < 0 || c.PHYRate < 0 || c.Latency < 0 || c.TimeScale < 0 ||
		c.Loss < 0 || c.Loss >= 1 || c.DropRate < 0 || c.DropRate > 1 {
		return c, fmt.Errorf("link: invalid emulator config %+v", c)
	}
	return c, nil
}

// Pipe returns the two ends of an emulated Bluetooth LE connection. It panics on an
// invalid Config, as a test set-up error.
func Pipe(cfg Config) (a, b *PipeConn) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	r := rand.New(cfg.Rand)
	p := &pipe{cfg: cfg, start: time.Now(), down: make(chan struct{})}
	ab := newDirection(p, rand.New(rand.NewPCG(r.Uint64(), r.Uint64())))
	ba := newDirection(p, rand.New(rand.NewPCG(r.Uint64(), r.Uint64())))
	a = &PipeConn{p: p, out: ab, in: ba, closed: make(chan struct{})}
	b = &PipeConn{p: p, out: ba, in: ab, closed: make(chan struct{})}
	go ab.run()
	go ba.run()
	return a, b
}

// pipe is the state both ends share.
type pipe struct {
	cfg   Config
	start time.Time
	once  sync.Once
	down  chan struct{} // closed when the connection drops
}

func (p *pipe) disconnect() { p.once.Do(func() { close(p.down) }) }

// real converts an emulated duration to real time.
func (p *pipe) real(d time.Duration) time.Duration {
	return time.Duration(float64(d) * p.cfg.TimeScale)
}

// now returns the emulated time since the pipe started.
func (p *pipe) now() time.Duration {
	return time.Duration(float64(time.Since(p.start)) / p.cfg.TimeScale)
}

// sleepUntil waits until emulated time t, or until the connection drops.
func (p *pipe) sleepUntil(t time.Duration) bool {
	d := p.real(t) - time.Since(p.start)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-p.down:
		return false
	}
}

type delivery struct {
	frame []byte
	at    time.Duration // emulated time at which the receiver may have it
}

// direction is one way of the connection: a send queue, the radio, a receive queue.
type direction struct {
	p     *pipe
	rand  *rand.Rand
	queue chan []byte
	inbox chan delivery
}

func newDirection(p *pipe, r *rand.Rand) *direction {
	return &direction{p: p, rand: r, queue: make(chan []byte, 64), inbox: make(chan delivery, 1024)}
}

// run moves frames from queue to inbox at connection events.
func (d *direction) run() {
	cfg := d.p.cfg
	var head []byte
	last := -cfg.Interval
	for {
		busy := head != nil
		if !busy {
			select {
			case head = <-d.queue:
			case <-d.p.down:
				return
			}
		}
		// A busy link keeps to the event grid even when this goroutine runs late, so that
		// emulated times do not depend on the host's scheduling.
		event := last + cfg.Interval
		if !busy {
			event = max(event, (d.p.now()+cfg.Interval-1)/cfg.Interval*cfg.Interval)
		}
		last = event
		if !d.p.sleepUntil(event) {
			return
		}
		var air time.Duration
		for sent := 0; sent < cfg.PacketsPerEvent && head != nil; sent++ {
			if cfg.DropRate > 0 && d.rand.Float64() < cfg.DropRate {
				d.p.disconnect()
				return
			}
			bits := (len(head) + 17) * 8
			t := time.Duration(bits)*time.Second/time.Duration(cfg.PHYRate) + 300*time.Microsecond
			if sent > 0 && air+t > cfg.Interval {
				break
			}
			air += t
			if cfg.Loss > 0 && d.rand.Float64() < cfg.Loss {
				break // not acknowledged: resent at the next event, ahead of later frames
			}
			select {
			case d.inbox <- delivery{frame: head, at: event + air + cfg.Latency}:
			case <-d.p.down:
				return
			}
			head = nil
			select {
			case head = <-d.queue:
			default:
			}
		}
	}
}

// PipeConn is one end of an emulated Bluetooth LE connection. It implements Conn.
type PipeConn struct {
	p         *pipe
	out, in   *direction
	closeOnce sync.Once
	closed    chan struct{}

	recvMu  sync.Mutex
	pending *delivery     // taken from the inbox but not yet due
	lastAt  time.Duration // emulated delivery time of the last frame received
}

var _ Conn = (*PipeConn)(nil)

// MTU returns the ATT payload size, ATTMTU - 3.
func (c *PipeConn) MTU() int { return c.p.cfg.ATTMTU - 3 }

func (c *PipeConn) state() error {
	select {
	case <-c.closed:
		return ErrClosed
	default:
	}
	select {
	case <-c.p.down:
		return ErrDisconnected
	default:
	}
	return nil
}

// Send queues frame for the next connection events.
func (c *PipeConn) Send(ctx context.Context, frame []byte) error {
	if err := c.state(); err != nil {
		return err
	}
	if len(frame) > c.MTU() {
		return fmt.Errorf("%w: %d bytes, MTU %d", ErrFrameTooLarge, len(frame), c.MTU())
	}
	f := make([]byte, len(frame)) // never nil: the radio takes nil for "no frame"
	copy(f, frame)
	select {
	case c.out.queue <- f:
		return nil
	case <-c.p.down:
		return c.state()
	case <-c.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Recv returns the next frame once its emulated delivery time has come.
func (c *PipeConn) Recv(ctx context.Context) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if err := c.state(); err != nil {
		return nil, err
	}
	if c.pending == nil {
		select {
		case d := <-c.in.inbox:
			c.pending = &d
		case <-c.p.down:
			return nil, c.state()
		case <-c.closed:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if wait := c.p.real(c.pending.at) - time.Since(c.p.start); wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-c.p.down:
			return nil, c.state()
		case <-c.closed:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := c.pending.frame
	c.lastAt = c.pending.at
	c.pending = nil
	return f, nil
}

// Close ends the connection for both ends.
func (c *PipeConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	c.p.disconnect()
	return nil
}

// Disconnect drops the connection as a radio failure would: both ends get ErrDisconnected.
func (c *PipeConn) Disconnect() { c.p.disconnect() }

// Now returns the emulated time since the connection was made, for measurements.
func (c *PipeConn) Now() time.Duration { return c.p.now() }
