package ledger

import (
	"context"
	"time"

	"github.com/offpay/offpay"
)

// ClaimNotifications returns up to limit due, undelivered notifications,
// oldest first, and leases them for Options.Lease so that concurrent
// deliverers do not take the same ones; an unacknowledged lease expires
// and the notification is claimed again (at-least-once).
func (s *Service) ClaimNotifications(ctx context.Context, limit int) ([]Notification, error) {
	if limit <= 0 || limit > 1000 {
		return nil, invalid("limit must be 1 to 1000")
	}
	now := s.now()
	var rows []OutboxRow
	err := s.update(ctx, func(tx Tx) (err error) {
		rows, err = tx.ClaimOutbox(ctx, now.UnixNano(), now.Add(s.opts.Lease).UnixNano(), limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Notification, len(rows))
	for i, r := range rows {
		out[i] = Notification{ID: r.ID, Kind: r.Kind, IdempotencyKey: r.Key, Payload: r.Payload, Attempts: r.Attempts,
			CreatedAt: time.Unix(0, r.CreatedAt).UTC()}
	}
	return out, nil
}

// MarkDelivered records that a notification reached the bank.
func (s *Service) MarkDelivered(ctx context.Context, id int64) error {
	return s.update(ctx, func(tx Tx) error {
		ok, err := tx.MarkDelivered(ctx, id, s.now().UnixNano())
		if err == nil && !ok {
			err = offpay.Errorf(offpay.ENOTFOUND, "notification %d not found", id)
		}
		return err
	})
}

// MarkFailed releases a notification's lease and schedules its next
// attempt at next.
func (s *Service) MarkFailed(ctx context.Context, id int64, next time.Time, lastErr string) error {
	if len(lastErr) > 1000 {
		lastErr = lastErr[:1000]
	}
	return s.update(ctx, func(tx Tx) error {
		ok, err := tx.MarkFailed(ctx, id, next.UnixNano(), lastErr)
		if err == nil && !ok {
			err = offpay.Errorf(offpay.ENOTFOUND, "notification %d not found", id)
		}
		return err
	})
}
