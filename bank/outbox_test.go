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
	token     int64
	delivered bool
	dead      bool
	lastErr   string
}

// fakeOutbox keeps the outbox's contract in memory: claimed items are
// leased for a minute, failed ones wait until their next attempt time.
// Each item is a stream of its own (ledger.Service keeps the order within
// a stream; storetest checks it).
type fakeOutbox struct {
	mu    sync.Mutex
	clock *clock
	items []*item
	// failMarkDelivered makes the next k MarkDelivered calls fail, as if
	// the worker crashed after the receiver accepted.
	failMarkDelivered int
	tokens            int64
	retries           int // RetryNow calls
}

func newFakeOutbox(c *clock, n int) *fakeOutbox {
	o := &fakeOutbox{clock: c}
	for i := 1; i <= n; i++ {
		o.items = append(o.items, &item{n: ledger.Notification{
			ID:             int64(i),
			Kind:           "payment_settled",
			IdempotencyKey: fmt.Sprintf("pay-%04d", i),
			Stream:         fmt.Sprintf("acct-%d", i),
			Seq:            1,
			Payload:        []byte(fmt.Sprintf(`{"payment":"p%d","amount_minor":%d}`, i, 100*i)),
			CreatedAt:      c.Now(),
			Since:          c.Now(),
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
		if it.delivered || it.dead || it.next.After(now) || it.lease.After(now) {
			continue
		}
		o.tokens++
		it.lease, it.token = now.Add(time.Minute), o.tokens
		it.n.Attempts++ // counted at the claim, as ledger.Service does
		it.n.Streak++
		n := it.n
		n.Lease, n.LeaseUntil = it.token, it.lease
		out = append(out, n)
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

func (o *fakeOutbox) MarkDelivered(_ context.Context, ids ...int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failMarkDelivered > 0 {
		o.failMarkDelivered--
		return errors.New("database is locked")
	}
	for _, id := range ids {
		if _, err := o.get(id); err != nil {
			return err
		}
	}
	for _, id := range ids {
		it, _ := o.get(id)
		it.delivered, it.lease, it.token = true, time.Time{}, 0
	}
	return nil
}

func (o *fakeOutbox) MarkFailed(_ context.Context, f ledger.Failure) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, err := o.get(f.ID)
	if err != nil {
		return err
	}
	if it.token != f.Lease || it.delivered || it.dead {
		return nil
	}
	it.next, it.lease, it.token, it.lastErr, it.dead = f.Next, time.Time{}, 0, f.Err, f.Dead
	return nil
}

func (o *fakeOutbox) RenewLeases(_ context.Context, leases map[int64]int64) ([]int64, time.Time, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	until := o.clock.Now().Add(time.Minute)
	var ids []int64
	for id, tok := range leases {
		if it, err := o.get(id); err == nil && it.token == tok && !it.delivered {
			it.lease = until
			ids = append(ids, id)
		}
	}
	return ids, until, nil
}

func (o *fakeOutbox) RetryNow(context.Context) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries++
	var n int64
	now := o.clock.Now()
	for _, it := range o.items {
		if !it.delivered && !it.dead && it.next.After(now) {
			it.next, it.n.Streak = now, 0
			n++
		}
	}
	return n, nil
}

func (o *fakeOutbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, it := range o.items {
		if !it.delivered && !it.dead {
			n++
		}
	}
	return n
}
