package ledger

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offpay/offpay"
)

// The bank outbox. Every notification is written in the transaction of
// the change it reports, in the stream of the account it is about, with
// the next sequence number of that stream. A deliverer claims the head of
// each stream (its lowest pending sequence number) and nothing behind it,
// so each stream is delivered in sequence however many deliverers run;
// a claim is a lease, renewed while the deliverer sends, and released
// when the attempt fails. A notification given up (dead letter) stops
// holding its stream back; Resend makes it pending again.

// Outbox states.
const (
	OutboxPending   = "pending"   // to be delivered
	OutboxDelivered = "delivered" // the receiver answered 2xx
	OutboxDead      = "dead"      // given up after failing for longer than the deliverer's dead-letter age
)

// ClaimNotifications returns up to limit pending notifications that are
// due, not leased and first in their stream, oldest first, and leases them
// for Options.Lease under a fresh token (Notification.Lease): until the
// lease ends or is released, no other claim returns them or anything
// behind them in their streams. An unrenewed lease expires and the
// notification is claimed again (delivery is at least once).
func (s *Service) ClaimNotifications(ctx context.Context, limit int) ([]Notification, error) {
	if limit <= 0 || limit > 1000 {
		return nil, invalid("limit must be 1 to 1000")
	}
	now := s.now()
	token := randomID()
	var rows []OutboxRow
	err := s.update(ctx, func(tx Tx) (err error) {
		rows, err = tx.ClaimOutbox(ctx, now.UnixNano(), now.Add(s.opts.Lease).UnixNano(), token, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Notification, len(rows))
	for i := range rows {
		out[i] = notification(&rows[i])
	}
	return out, nil
}

func notification(r *OutboxRow) Notification {
	n := Notification{ID: r.ID, Kind: r.Kind, IdempotencyKey: r.Key, Stream: r.Stream, Seq: r.Seq, Payload: r.Payload,
		Attempts: r.Attempts, Streak: r.Streak, Lease: r.LeaseToken, CreatedAt: ts(r.CreatedAt), Since: ts(r.Since),
		State: OutboxPending, LastError: r.LastError}
	if n.Since.IsZero() {
		n.Since = n.CreatedAt
	}
	if r.LeaseUntil > 0 {
		n.LeaseUntil = ts(r.LeaseUntil)
	}
	switch {
	case r.DeliveredAt > 0:
		n.State, n.DeliveredAt = OutboxDelivered, tsp(r.DeliveredAt)
	case r.DeadAt > 0:
		n.State, n.DeadAt = OutboxDead, tsp(r.DeadAt)
	default:
		n.NextAt = tsp(r.NextAt)
	}
	return n
}

func ts(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func tsp(ns int64) *time.Time {
	t := ts(ns)
	return &t
}

// RenewLeases extends by Options.Lease the leases of notifications still
// held under their tokens (leases maps a notification's ID to its Lease
// token) and returns the IDs it renewed and the new end; a lease missing
// from the answer was lost (it expired and another deliverer claimed it,
// or the notification was resent).
func (s *Service) RenewLeases(ctx context.Context, leases map[int64]int64) ([]int64, time.Time, error) {
	until := s.now().Add(s.opts.Lease)
	var ids []int64
	err := s.update(ctx, func(tx Tx) (err error) {
		ids, err = tx.RenewOutbox(ctx, leases, until.UnixNano())
		return err
	})
	return ids, until, err
}

// MarkDelivered records that notifications reached the bank, all in one
// transaction (a deliverer batches those that ended together); if one is
// not found, none is recorded.
func (s *Service) MarkDelivered(ctx context.Context, ids ...int64) error {
	return s.update(ctx, func(tx Tx) error {
		now := s.now().UnixNano()
		for _, id := range ids {
			ok, err := tx.MarkDelivered(ctx, id, now)
			if err == nil && !ok {
				err = offpay.Errorf(offpay.ENOTFOUND, "notification %d not found", id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Failure is a failed delivery attempt.
type Failure struct {
	ID    int64
	Lease int64     // the claim's token: a failure reported under a lost lease changes nothing
	Next  time.Time // the next attempt
	Dead  bool      // give it up (dead letter): it no longer holds its stream back
	Err   string    // why (kept, at most 1000 bytes)
}

// MarkFailed records a failed attempt of a notification the caller still
// holds: its lease is released and its next attempt is at f.Next, or it is
// given up if f.Dead.
func (s *Service) MarkFailed(ctx context.Context, f Failure) error {
	if len(f.Err) > 1000 {
		f.Err = strings.ToValidUTF8(f.Err[:1000], "")
	}
	now := s.now().UnixNano()
	var dead int64
	if f.Dead {
		dead = now
	}
	return s.update(ctx, func(tx Tx) error {
		ok, err := tx.MarkFailed(ctx, f.ID, f.Lease, f.Next.UnixNano(), dead, f.Err)
		if err == nil && !ok {
			err = offpay.Errorf(offpay.ENOTFOUND, "notification %d not found", f.ID)
		}
		return err
	})
}

// RetryNow makes every pending notification waiting out a backoff due
// now, with its backoff reset: a deliverer calls it when the receiver
// answers again after failing, so that the backlog goes at once rather
// than each notification waiting its own backoff. It returns how many.
func (s *Service) RetryNow(ctx context.Context) (int64, error) {
	var n int64
	err := s.update(ctx, func(tx Tx) (err error) {
		n, err = tx.RetryOutbox(ctx, s.now().UnixNano())
		return err
	})
	return n, err
}

// OutboxQuery selects notifications for Outbox and Resend.
type OutboxQuery struct {
	State   string    `json:"state,omitempty"`   // pending, delivered, dead; "" for all
	Account string    `json:"account,omitempty"` // the stream
	Kind    string    `json:"kind,omitempty"`
	Key     string    `json:"key,omitempty"` // one notification, by its idempotency key
	From    time.Time `json:"from,omitzero"` // created at or after
	To      time.Time `json:"to,omitzero"`   // created before
	After   string    `json:"after,omitempty"`
	Limit   int       `json:"limit,omitempty"` // Outbox: 1 to 1000, default 100
}

// OutboxPage is one page of Outbox: Next is the After of the next page,
// "" after the last.
type OutboxPage struct {
	Notifications []Notification `json:"notifications"`
	Next          string         `json:"next,omitempty"`
}

// Kinds lists the notification kinds.
var Kinds = []string{NotePaymentSettled, NotePaymentExpired, NoteAccountChanged, NoteAccountFrozen, NoteDeviceRevoked, NoteDoubleSpend}

func (q *OutboxQuery) filter() (OutboxFilter, error) {
	f := OutboxFilter{State: q.State, Stream: q.Account, Kind: q.Kind, Key: q.Key}
	switch q.State {
	case "", OutboxPending, OutboxDelivered, OutboxDead:
	default:
		return f, invalid("state must be pending, delivered or dead")
	}
	if q.Account != "" {
		if err := CheckAccountName(q.Account); err != nil {
			return f, err
		}
	}
	if q.Kind != "" && !slices.Contains(Kinds, q.Kind) {
		return f, invalid("kind must be one of %s", strings.Join(Kinds, ", "))
	}
	if len(q.Key) > 300 {
		return f, invalid("key longer than 300 bytes")
	}
	if !q.From.IsZero() {
		f.From = q.From.UnixNano()
	}
	if !q.To.IsZero() {
		f.To = q.To.UnixNano()
		if f.To <= f.From {
			return f, invalid("to must be after from")
		}
	}
	if q.After != "" {
		c, i, ok := strings.Cut(q.After, "-")
		var err1, err2 error
		f.AfterCreated, err1 = strconv.ParseInt(c, 10, 64)
		f.AfterID, err2 = strconv.ParseInt(i, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return f, invalid("after is not a cursor from a previous page")
		}
	}
	return f, nil
}

// maxPageBytes bounds the payloads of one Outbox page (a payment_settled
// payload carries up to 500 payments).
const maxPageBytes = 8 << 20

// Outbox lists notifications matching q in the order they were written
// (creation time, then ID), a page at a time: up to q.Limit, and no more
// than about 8 MiB of payloads.
func (s *Service) Outbox(ctx context.Context, q OutboxQuery) (*OutboxPage, error) {
	f, err := q.filter()
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > 1000 {
		return nil, invalid("limit must be 1 to 1000")
	}
	var rows []OutboxRow
	if err := s.view(ctx, func(tx Tx) (err error) {
		rows, err = tx.OutboxRows(ctx, f, limit)
		return err
	}); err != nil {
		return nil, err
	}
	page := &OutboxPage{Notifications: make([]Notification, 0, len(rows))}
	size := 0
	for i := range rows {
		if size += len(rows[i].Payload); size > maxPageBytes && i > 0 {
			rows = rows[:i] // the rest on the next page
			break
		}
		n := notification(&rows[i])
		n.Lease, n.LeaseUntil = 0, time.Time{}
		page.Notifications = append(page.Notifications, n)
	}
	if len(rows) == limit || size > maxPageBytes {
		last := rows[len(rows)-1]
		page.Next = fmt.Sprintf("%d-%d", last.CreatedAt, last.ID)
	}
	return page, nil
}

// Resend makes the notifications matching q pending and due now again,
// each as a new delivery series (its dead-letter age counts from now),
// with the same idempotency key, sequence number and body: a receiver
// that processed one already recognises it. Notifications being sent at
// the moment are left to their deliverer. q must name a key or a time
// range (both ends); it returns how many were resent.
func (s *Service) Resend(ctx context.Context, q OutboxQuery) (int64, error) {
	f, err := q.filter()
	if err != nil {
		return 0, err
	}
	if q.Key == "" && (q.From.IsZero() || q.To.IsZero()) {
		return 0, invalid("name a key, or a time range (from and to)")
	}
	if q.After != "" || q.Limit != 0 {
		return 0, invalid("after and limit do not apply to a resend")
	}
	var n int64
	err = s.update(ctx, func(tx Tx) (err error) {
		n, err = tx.ResendOutbox(ctx, f, s.now().UnixNano())
		return err
	})
	return n, err
}

// OutboxStats describes the outbox for the report and metrics.
type OutboxStats struct {
	Pending int64 `json:"pending"`
	Dead    int64 `json:"dead"` // given up: see ledger outbox list --state dead, and resend
	// The oldest pending notification: when it was written, how often it
	// was tried, and why its last attempt failed.
	OldestPending  *time.Time `json:"oldest_pending,omitempty"`
	OldestAttempts int        `json:"oldest_attempts,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
}

// OutboxStats counts pending and dead notifications.
func (s *Service) OutboxStats(ctx context.Context) (*OutboxStats, error) {
	var st *OutboxStats
	err := s.view(ctx, func(tx Tx) (err error) {
		st, err = outboxStats(ctx, tx)
		return err
	})
	return st, err
}

func outboxStats(ctx context.Context, tx Tx) (*OutboxStats, error) {
	row, err := tx.OutboxStats(ctx)
	if err != nil {
		return nil, err
	}
	st := &OutboxStats{Pending: row.Pending, Dead: row.Dead}
	if o := row.Oldest; o != nil {
		st.OldestPending, st.OldestAttempts, st.LastError = tsp(o.CreatedAt), o.Attempts, o.LastError
	}
	return st, nil
}
