package bank

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/offpay/offpay/ledger"
)

// clock is a settable clock shared by the fake outbox and the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type item struct {
	n         ledger.Notification
	next      time.Time
	lease     time.Time
	delivered bool
	lastErr   string
}

// fakeOutbox keeps the outbox's contract in memory: claimed items are
// leased for a minute, failed ones wait until their next attempt time.
type fakeOutbox struct {
	mu    sync.Mutex
	clock *clock
	items []*item
	// failMarkDelivered makes the next k MarkDelivered calls fail, as if
	// the worker crashed after the receiver accepted.
	failMarkDelivered int
}

func newFakeOutbox(c *clock, n int) *fakeOutbox {
	o := &fakeOutbox{clock: c}
	for i := 1; i <= n; i++ {
		o.items = append(o.items, &item{n: ledger.Notification{
			ID:             int64(i),
			Kind:           "payment_settled",
			IdempotencyKey: fmt.Sprintf("pay-%04d", i),
			Payload:        []byte(fmt.Sprintf(`{"payment":"p%d","amount_minor":%d}`, i, 100*i)),
			CreatedAt:      c.Now(),
		}})
	}
	return o
}

func (o *fakeOutbox) ClaimNotifications(_ context.Context, limit int) ([]ledger.Notification, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clock.Now()
	var out []ledger.Notification
	for _, it := range o.items {
		if len(out) == limit {
			break
		}
		if it.delivered || it.next.After(now) || it.lease.After(now) {
			continue
		}
		it.lease = now.Add(time.Minute)
		it.n.Attempts++ // counted at the claim, as ledger.Service does
		out = append(out, it.n)
	}
	return out, nil
}

func (o *fakeOutbox) get(id int64) (*item, error) {
	for _, it := range o.items {
		if it.n.ID == id {
			return it, nil
		}
	}
	return nil, errors.New("no such notification")
}

func (o *fakeOutbox) MarkDelivered(_ context.Context, id int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failMarkDelivered > 0 {
		o.failMarkDelivered--
		return errors.New("database is locked")
	}
	it, err := o.get(id)
	if err != nil {
		return err
	}
	it.delivered = true
	return nil
}

func (o *fakeOutbox) MarkFailed(_ context.Context, id int64, next time.Time, lastErr string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, err := o.get(id)
	if err != nil {
		return err
	}
	it.next, it.lease, it.lastErr = next, time.Time{}, lastErr
	return nil
}

func (o *fakeOutbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, it := range o.items {
		if !it.delivered {
			n++
		}
	}
	return n
}
