package bench

import (
	"context"
	"fmt"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// Fleet is a population of person devices that pay each other in rounds:
// in round r device i pays device i+1+r (mod N), then logs what it
// received, so that every payment is uploaded by its payer and by its
// payee, usually at the same time. The uploads of every round are signed
// in advance; Rounds[r][i] is device i's upload in round r (its new
// entries since the previous round).
type Fleet struct {
	Devices  []*Device
	Rounds   [][]*protocol.SyncUpload
	Payments int
	load     uint64
	sent     []int64
	received []int64
}

// NewFleet enrols n devices through a (each with an account and a Load)
// and signs rounds rounds of payments, each round uploaded on its own.
func NewFleet(ctx context.Context, a Admin, currency string, n, rounds int) (*Fleet, error) {
	return newFleet(ctx, a, currency, n, rounds, 1)
}

// NewOfflineFleet is a fleet that went offline: each of the n devices
// makes payments payments (and receives as many) and then uploads its
// whole log once, so Rounds has one round of n uploads of 2*payments+1
// entries. It is the crowd that comes back after an outage.
func NewOfflineFleet(ctx context.Context, a Admin, currency string, n, payments int) (*Fleet, error) {
	return newFleet(ctx, a, currency, n, payments, payments)
}

// newFleet signs rounds rounds of payments and cuts an upload after every
// uploadEvery rounds (and after the last).
func newFleet(ctx context.Context, a Admin, currency string, n, rounds, uploadEvery int) (*Fleet, error) {
	if n < 2 {
		return nil, fmt.Errorf("a fleet needs 2 devices or more")
	}
	f := &Fleet{Devices: make([]*Device, n), load: 1000, sent: make([]int64, n), received: make([]int64, n)}
	pending := make([][]protocol.LogEntry, n)
	// Enrolment in parallel: signing and the HTTP round trips overlap
	// (the store still applies one write at a time).
	errs := make([]error, n)
	parallel(n, func(i int) {
		f.Devices[i], pending[i], errs[i] = NewEnrolled(ctx, a, currency, fmt.Sprintf("dev%d", i), false, 2000, f.load)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err // the first: the others likely say the same
		}
	}
	for r := range rounds {
		bundles := make([][]*protocol.PaymentBundle, n)
		for i, d := range f.Devices {
			j := (i + 1 + r%(n-1)) % n
			amount := 1 + uint64((i+r)%5)
			e, b := d.Pay(f.Devices[j].ID, amount)
			pending[i] = append(pending[i], e)
			bundles[j] = append(bundles[j], b)
			f.sent[i] += int64(amount)
			f.received[j] += int64(amount)
			f.Payments++
		}
		cut := (r+1)%uploadEvery == 0 || r == rounds-1
		var ups []*protocol.SyncUpload
		if cut {
			ups = make([]*protocol.SyncUpload, n)
		}
		parallel(n, func(j int) {
			for _, b := range bundles[j] {
				pending[j] = append(pending[j], f.Devices[j].Receive(b))
			}
			if cut {
				ups[j] = f.Devices[j].Upload(pending[j])
				pending[j] = nil
			}
		})
		if cut {
			f.Rounds = append(f.Rounds, ups)
		}
	}
	return f, nil
}

// Check compares the ledger's report with what the fleet did: every
// payment settled exactly once, every device's log fully acknowledged,
// its sent and received totals exact, and money conserved.
func (f *Fleet) Check(r *ledger.Report) error {
	if !r.ConservationOK {
		return fmt.Errorf("conservation fails: issued %d + losses %d != accounts %d + outstanding %d", r.Issued, r.Losses, r.Accounts, r.Outstanding)
	}
	if r.Settled != int64(f.Payments) {
		return fmt.Errorf("%d payments settled, %d made", r.Settled, f.Payments)
	}
	if len(r.DoubleSpends) > 0 || len(r.RevokedDevices) > 0 {
		return fmt.Errorf("honest devices flagged: %d double spends, %d revoked", len(r.DoubleSpends), len(r.RevokedDevices))
	}
	byID := map[string]ledger.DeviceReport{}
	for _, d := range r.Devices {
		byID[d.Device] = d
	}
	for i, d := range f.Devices {
		got, ok := byID[d.ID.String()]
		switch {
		case !ok:
			return fmt.Errorf("device %d missing from the report", i)
		case got.Acked != d.Counter:
			return fmt.Errorf("device %d: acknowledged %d of %d entries", i, got.Acked, d.Counter)
		case got.Sent != f.sent[i] || got.Received != f.received[i] || got.Loaded != int64(f.load):
			return fmt.Errorf("device %d: loaded %d sent %d received %d, want %d %d %d", i, got.Loaded, got.Sent, got.Received, f.load, f.sent[i], f.received[i])
		}
	}
	return nil
}
