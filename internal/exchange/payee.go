package exchange

import (
	"container/list"
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/offpay/offpay/transport/channel"
	"github.com/offpay/offpay/transport/link"
)

// Defaults of Payee.
const (
	// DefaultLinger is how long a receipt the payer did not acknowledge
	// keeps the payee waiting for the payer's resumed session (Drain).
	DefaultLinger = 30 * time.Second
	// DefaultHandshakeTimeout bounds a link's channel handshake: a payer
	// holding the pairing finishes it in a few round trips (milliseconds on
	// TCP, about four connection intervals on Bluetooth LE).
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultSessionTimeout bounds one session after its handshake.
	DefaultSessionTimeout = time.Minute
	// DefaultMaxHandshakes bounds the links waiting for their handshake.
	DefaultMaxHandshakes = 64
	// DefaultMaxSessions bounds the sessions served at once.
	DefaultMaxSessions = 16
	// maxBad is how many malformed, oversize or unauthenticated records a
	// session tolerates before the payee drops it.
	maxBad = 16
)

// Payee serves payments on links, each in its own session, and answers a
// payer's retry on a resumed session with the receipt it already sent. It
// is safe for concurrent use; set its exported fields before Serve.
//
// Serve keeps two pools. A new link first waits for its handshake, which
// only a payer holding a pairing from the payee's request can complete; at
// most MaxHandshakes links wait at once, each at most HandshakeTimeout, and
// a new link beyond them makes the oldest waiting one close. So links that
// never speak (a flood of idle TCP connections) cost a payer nothing but
// the slot of the oldest of them. A link whose handshake succeeded becomes
// a session, of which at most MaxSessions are served at once.
type Payee struct {
	resp             *channel.Responder
	handle           Handler
	Linger           time.Duration // see DefaultLinger
	HandshakeTimeout time.Duration // see DefaultHandshakeTimeout
	SessionTimeout   time.Duration // see DefaultSessionTimeout
	MaxHandshakes    int           // see DefaultMaxHandshakes
	MaxSessions      int           // see DefaultMaxSessions
	// Ended, if set, is called as each session ends (from the session's
	// goroutine; it must not block).
	Ended func(SessionEnd)

	mu      sync.Mutex
	paid    int                  // payments accepted (repeats not counted)
	unacked map[string]time.Time // receipts sent, not acknowledged, by when to wait for a retry
	changed chan struct{}        // closed and replaced when paid or unacked change
	load    Load
}

// Load counts the links Serve closed to keep serving payers. A terminal
// shows it (offpay pos run): non-zero means someone is opening links that
// do not pay, or more payers come at once than MaxSessions.
type Load struct {
	// Shed: links closed before their handshake because MaxHandshakes
	// newer links were waiting (the oldest waiting link goes).
	Shed uint64
	// SlowHandshakes: links whose handshake did not finish within
	// HandshakeTimeout (idle or slow-loris links).
	SlowHandshakes uint64
	// Busy: sessions closed after their handshake because MaxSessions
	// others were still being served HandshakeTimeout later.
	Busy uint64
}

// SessionEnd says how a session ended. A session opened with a pairing
// from the payee's code (not a resumption) has spent that code, whatever
// happened on it: a payee that shows one code at a time shows a new one
// unless the session paid.
type SessionEnd struct {
	Pairing [channel.IDLen]byte // the ID of the pairing that opened it
	Resumed bool                // opened with a resumption pairing
	Paid    bool                // a payment was answered with a receipt on it (a repeat too)
	Refused error               // the last refusal the payee sent on it, if any
	GaveUp  string              // the payer's reason for giving up (GiveUp), if it sent one
	Busy    bool                // closed after the handshake: MaxSessions others were being served
}

// NewPayee returns a Payee that opens sessions with r and answers bundles
// with h.
func NewPayee(r *channel.Responder, h Handler) *Payee {
	return &Payee{resp: r, handle: h, Linger: DefaultLinger, HandshakeTimeout: DefaultHandshakeTimeout,
		SessionTimeout: DefaultSessionTimeout, MaxHandshakes: DefaultMaxHandshakes, MaxSessions: DefaultMaxSessions,
		unacked: map[string]time.Time{}, changed: make(chan struct{})}
}

// Load returns what Serve shed so far.
func (p *Payee) Load() Load {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.load
}

func (p *Payee) count(f func(*Load)) {
	p.mu.Lock()
	f(&p.load)
	p.mu.Unlock()
}

// Listener is what Serve takes links from (link.Listener, or a test's).
type Listener interface {
	Accept(ctx context.Context) (link.Conn, error)
}

// waiting is the pool of links before their handshake, oldest first.
type waiting struct {
	mu    sync.Mutex
	links *list.List // of link.Conn
	max   int
}

// add admits c, closing and returning true for the oldest waiting link
// if the pool was full.
func (w *waiting) add(c link.Conn) (*list.Element, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	shed := false
	if w.links.Len() >= w.max {
		oldest := w.links.Front()
		w.links.Remove(oldest)
		_ = oldest.Value.(link.Conn).Close()
		shed = true
	}
	return w.links.PushBack(c), shed
}

// leave takes e out of the pool; it reports false if e was shed meanwhile.
func (w *waiting) leave(e *list.Element) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for x := w.links.Front(); x != nil; x = x.Next() {
		if x == e {
			w.links.Remove(e)
			return true
		}
	}
	return false
}

// Serve accepts links from ln until ctx ends or Accept fails, serving each
// in its own goroutine within the two pools described at Payee, and waits
// for them before it returns.
func (p *Payee) Serve(ctx context.Context, ln Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	pool := &waiting{links: list.New(), max: max(p.MaxHandshakes, 1)}
	slots := make(chan struct{}, max(p.MaxSessions, 1))
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		e, shed := pool.add(c)
		if shed {
			p.count(func(l *Load) { l.Shed++ })
		}
		wg.Go(func() {
			defer c.Close()
			s, ok := p.handshake(ctx, c)
			if !pool.leave(e) || !ok {
				return // shed meanwhile, or refused
			}
			if !p.slot(ctx, slots) {
				s.Close()
				p.ended(s, SessionEnd{Busy: ctx.Err() == nil})
				return
			}
			defer func() { <-slots }()
			p.session(ctx, s)
		})
	}
}

// slot takes a session slot, waiting up to HandshakeTimeout for one.
func (p *Payee) slot(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(p.handshakeTimeout())
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return true
	case <-t.C:
		p.count(func(l *Load) { l.Busy++ })
	case <-ctx.Done():
	}
	return false
}

func (p *Payee) handshakeTimeout() time.Duration {
	if p.HandshakeTimeout > 0 {
		return p.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// handshake opens a session on c (a pairing or a resumption) within
// HandshakeTimeout. A refused handshake is held a moment (rejectWait) so
// that the refusal reaches the payer: it tells a payer whose resumption was
// spent to stop retrying. A handshake cut by the timeout is not.
func (p *Payee) handshake(ctx context.Context, c link.Conn) (*channel.Session, bool) {
	hctx, cancel := context.WithTimeout(ctx, p.handshakeTimeout())
	defer cancel()
	s, err := p.resp.Accept(hctx, c)
	if err == nil {
		return s, true
	}
	// A failed handshake (wrong secret, replay) changes nothing.
	if hctx.Err() != nil && ctx.Err() == nil {
		p.count(func(l *Load) { l.SlowHandshakes++ })
		return nil, false
	}
	waitClose(ctx, c)
	return nil, false
}

// ServeConn opens a session on c (a pairing or a resumption, within
// HandshakeTimeout) and answers payments on it until the payer
// acknowledges, closes or drops, then closes c. It takes no slot of Serve's
// pools. A session that ends with a receipt unacknowledged leaves it
// waiting for a retry, for Linger. Malformed records are dropped, up to a
// bound.
func (p *Payee) ServeConn(ctx context.Context, c link.Conn) {
	defer c.Close()
	if s, ok := p.handshake(ctx, c); ok {
		p.session(ctx, s)
	}
}

// ended reports the end of session s.
func (p *Payee) ended(s *channel.Session, e SessionEnd) {
	if p.Ended == nil {
		return
	}
	e.Pairing, e.Resumed = s.Opened()
	p.Ended(e)
}

// session answers payments on s, for at most SessionTimeout.
func (p *Payee) session(ctx context.Context, s *channel.Session) {
	var end SessionEnd
	defer func() { p.ended(s, end) }()
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, p.SessionTimeout)
	defer cancel()
	var last []byte // the last receipt sent on this session
	acked := false
	defer func() { p.settle(last, acked) }()
	bad := 0
	for {
		msg, err := s.Recv(ctx)
		if errors.Is(err, channel.ErrCorrupt) || errors.Is(err, channel.ErrTooLarge) {
			if bad++; bad < maxBad {
				continue
			}
			return
		}
		if err != nil {
			return
		}
		if len(msg) == 1 && msg[0] == done {
			acked = last != nil
			return
		}
		if len(msg) > 0 && msg[0] == gaveUp {
			end.GaveUp = strings.ToValidUTF8(string(msg[1:min(len(msg), 1+maxReason)]), "?")
			return
		}
		receipt, repeat, aerr := p.handle(msg)
		if aerr == nil {
			last = receipt
			end.Paid, end.Refused = true, nil
			p.sent(receipt, repeat)
		} else {
			end.Refused = aerr
		}
		if err := answer(ctx, s, receipt, aerr); err != nil {
			return
		}
	}
}

// sent records a receipt about to be sent: a payment accepted (unless it
// is a repeat) and a receipt the payer has not acknowledged yet.
func (p *Payee) sent(receipt []byte, repeat bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !repeat {
		p.paid++
	}
	p.sweepLocked(time.Now())
	p.unacked[string(receipt)] = time.Now().Add(p.Linger)
	p.signalLocked()
}

// settle records how a session that sent receipt last ended: acknowledged,
// or waiting for a retry for Linger from now.
func (p *Payee) settle(last []byte, acked bool) {
	if last == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if acked {
		delete(p.unacked, string(last))
	} else {
		p.unacked[string(last)] = time.Now().Add(p.Linger)
	}
	p.signalLocked()
}

func (p *Payee) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Paid returns the number of payments accepted so far; a retry answered
// with the same receipt does not count.
func (p *Payee) Paid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paid
}

// WaitPaid waits until at least n payments were accepted.
func (p *Payee) WaitPaid(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		paid, ch := p.paid, p.changed
		p.mu.Unlock()
		if paid >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Unacked returns the number of receipts sent whose payer may still retry.
func (p *Payee) Unacked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked(time.Now())
	return len(p.unacked)
}

func (p *Payee) sweepLocked(now time.Time) time.Time {
	var next time.Time
	for k, t := range p.unacked {
		if !now.Before(t) {
			delete(p.unacked, k)
		} else if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// Drain waits until every receipt sent was acknowledged or waited on for
// Linger, so that a payer whose link dropped can still resume, or until
// ctx ends. Keep Serve running meanwhile.
func (p *Payee) Drain(ctx context.Context) error {
	for {
		p.mu.Lock()
		next, ch := p.sweepLocked(time.Now()), p.changed
		p.mu.Unlock()
		if next.IsZero() {
			return nil
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}

// rejectWait bounds how long a rejected link is held for the peer to read
// the rejection and close.
const rejectWait = 2 * time.Second

func waitClose(ctx context.Context, c link.Conn) {
	ctx, cancel := context.WithTimeout(ctx, rejectWait)
	defer cancel()
	for {
		if _, err := c.Recv(ctx); err != nil {
			return
		}
	}
}
