package ledger

import (
	"context"
	"sort"
	"time"
)

// The operator's lists: every account, every device, with what a person
// asks about them first (balance and devices; account, state, last
// contact and position).

// AccountSummary is an account in the operator's list: the account (with
// its held part) and how many devices it has enrolled.
type AccountSummary struct {
	Account
	Devices int `json:"devices"`
}

// AccountList returns every account, by name.
func (s *Service) AccountList(ctx context.Context) ([]AccountSummary, error) {
	var out []AccountSummary
	err := s.view(ctx, func(tx Tx) error {
		out = out[:0]
		rows, err := tx.Accounts(ctx)
		if err != nil {
			return err
		}
		devs, err := tx.AllDevices(ctx)
		if err != nil {
			return err
		}
		refundable, err := tx.Refundable(ctx, nil)
		if err != nil {
			return err
		}
		of := map[string][]DeviceRow{}
		for _, d := range devs {
			of[d.Account] = append(of[d.Account], d)
		}
		for i := range rows {
			a := &rows[i]
			sum := AccountSummary{Account: *s.toAccount(a), Devices: len(of[a.Name])}
			sum.Held, sum.Refundable = held(a, of[a.Name], refundable[a.Name]), refundable[a.Name]
			out = append(out, sum)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeviceSummary is a device in the operator's list. Times are the ledger's.
type DeviceSummary struct {
	Device   string `json:"device"` // hex KeyID
	Account  string `json:"account"`
	Merchant bool   `json:"merchant"`
	Status   string `json:"status"` // active, revoked
	Reason   string `json:"reason,omitempty"`
	// RevokedAt is set on a revoked device.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// EnrolledAt is when the ledger certified the device.
	EnrolledAt time.Time `json:"enrolled_at"`
	// CertificateExpires is the end of its current certificate's validity.
	CertificateExpires time.Time `json:"certificate_expires"`
	// LastSeen is the latest ledger time the device was given: its
	// enrolment or its last sync.
	LastSeen *time.Time `json:"last_seen,omitempty"`
	// Acked is the last counter of its log the ledger holds.
	Acked uint64 `json:"acked_counter"`
	// Position is loaded + received + drawn - sent - redeemed - swept: what
	// its purse should hold by what the ledger has seen.
	Position int64 `json:"position_minor"`
}

// DeviceList returns the devices of account, or every device if account
// is empty, by account and enrolment time. An account that does not exist
// is ENOTFOUND.
func (s *Service) DeviceList(ctx context.Context, account string) ([]DeviceSummary, error) {
	var rows []DeviceRow
	err := s.view(ctx, func(tx Tx) (err error) {
		if account == "" {
			rows, err = tx.AllDevices(ctx)
			return err
		}
		if _, err := mustAccount(ctx, tx, account); err != nil {
			return err
		}
		rows, err = tx.DevicesOf(ctx, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]DeviceSummary, 0, len(rows))
	for i := range rows {
		d := &rows[i]
		sum := DeviceSummary{Device: d.ID.String(), Account: d.Account, Merchant: d.Merchant, Status: "active",
			Reason: d.Reason, EnrolledAt: time.Unix(0, d.CreatedAt).UTC(), Acked: d.Acked, Position: position(d)}
		if d.Revoked {
			sum.Status = "revoked"
			if d.RevokedAt > 0 {
				t := time.Unix(0, d.RevokedAt).UTC()
				sum.RevokedAt = &t
			}
		}
		if c, err := currentCert(d); err == nil {
			sum.CertificateExpires = unixUTC(c.NotAfter)
		}
		if d.LastSeen > 0 {
			t := unixUTC(d.LastSeen)
			sum.LastSeen = &t
		}
		out = append(out, sum)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].EnrolledAt.Before(out[j].EnrolledAt)
	})
	return out, nil
}

// unixUTC is unix seconds as a time, clamped to what time.Unix takes.
func unixUTC(t uint64) time.Time {
	return time.Unix(int64(min(t, 1<<62)), 0).UTC()
}
