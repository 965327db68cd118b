package exchange

import (
	"context"
	"errors"
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
	// DefaultSessionTimeout bounds one session, handshake included.
	DefaultSessionTimeout = time.Minute
	// DefaultMaxSessions bounds the sessions served at once.
	DefaultMaxSessions = 16
	// maxBad is how many malformed, oversize or unauthenticated records a
	// session tolerates before the payee drops it.
	maxBad = 16
)

// Payee serves payments on links, each in its own session, and answers a
// payer's retry on a resumed session with the receipt it already sent. It
// is safe for concurrent use; set its exported fields before Serve.
type Payee struct {
	resp           *channel.Responder
	handle         Handler
	Linger         time.Duration // see DefaultLinger
	SessionTimeout time.Duration // see DefaultSessionTimeout
	MaxSessions    int           // see DefaultMaxSessions; Serve closes links beyond it

	mu      sync.Mutex
	paid    int                  // payments accepted (repeats not counted)
	unacked map[string]time.Time // receipts sent, not acknowledged, by when to wait for a retry
	changed chan struct{}        // closed and replaced when paid or unacked change
}

// NewPayee returns a Payee that opens sessions with r and answers bundles
// with h.
func NewPayee(r *channel.Responder, h Handler) *Payee {
	return &Payee{resp: r, handle: h, Linger: DefaultLinger, SessionTimeout: DefaultSessionTimeout,
		MaxSessions: DefaultMaxSessions, unacked: map[string]time.Time{}, changed: make(chan struct{})}
}

// Listener is what Serve takes links from (link.Listener, or a test's).
type Listener interface {
	Accept(ctx context.Context) (link.Conn, error)
}

// Serve accepts links from ln until ctx ends or Accept fails, serving each
// in its own goroutine (at most MaxSessions at once: a link beyond them is
// closed), and waits for them before it returns.
func (p *Payee) Serve(ctx context.Context, ln Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, max(p.MaxSessions, 1))
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return err
		}
		select {
		case slots <- struct{}{}:
		default:
			c.Close() // busy: idle links must not lock payers out for long
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			p.ServeConn(ctx, c)
		})
	}
}

// ServeConn opens a session on c (a pairing or a resumption) and answers
// payments on it until the payer acknowledges, closes or drops, then closes
// c. A session that ends with a receipt unacknowledged leaves it waiting
// for a retry, for Linger. Malformed records are dropped, up to a bound.
func (p *Payee) ServeConn(ctx context.Context, c link.Conn) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, p.SessionTimeout)
	defer cancel()
	s, err := p.resp.Accept(ctx, c)
	if err != nil {
		// A failed handshake (wrong secret, replay) changes nothing. Let
		// the rejection reach the payer before closing: it tells a payer
		// whose resumption was spent to stop retrying.
		waitClose(ctx, c)
		return
	}
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
		receipt, repeat, aerr := p.handle(msg)
		if aerr == nil {
			last = receipt
			p.sent(receipt, repeat)
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
