package ledger

import (
	"context"

	"github.com/offpay/offpay/protocol"
)

// Fresh reads of uploaders' rows. prepare reads each uploader's device
// row afresh, outside the serial part, and each read was a transaction of
// its own: on PostgreSQL three round trips and a server process's time,
// while a crowd of devices back from an outage competes for the same
// cores as the batch being applied. Reads that queue up while one runs
// are done together in the next, one statement for all, as group commit
// does with writes (batch.go). A read still starts only after every
// upload it serves has arrived, so each sees every commit before its
// upload came (a certificate renewed by another process, a revocation).

// maxFreshReads bounds the devices of one read.
const maxFreshReads = 1000

type freshRead struct {
	id   protocol.KeyID
	info *devInfo
	err  error
	done chan struct{}
}

// freshDevice reads the row of device id afresh (nil if not enrolled).
func (s *Service) freshDevice(ctx context.Context, id protocol.KeyID) (*devInfo, error) {
	r := &freshRead{id: id, done: make(chan struct{})}
	s.rmu.Lock()
	s.reads = append(s.reads, r)
	if !s.reading {
		s.reading = true
		for {
			n := min(len(s.reads), maxFreshReads)
			if n == 0 {
				s.reading = false
				break
			}
			round := append([]*freshRead(nil), s.reads[:n]...)
			s.reads = s.reads[n:]
			s.rmu.Unlock()
			s.readFresh(context.WithoutCancel(ctx), round)
			s.rmu.Lock()
		}
	}
	s.rmu.Unlock()
	select {
	case <-r.done:
		return r.info, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readFresh reads the rows of round in one transaction and answers each.
func (s *Service) readFresh(ctx context.Context, round []*freshRead) {
	ids := make([]protocol.KeyID, len(round))
	for i, r := range round {
		ids[i] = r.id
	}
	var m map[protocol.KeyID]*devInfo
	err := s.view(ctx, func(tx Tx) (err error) {
		m, err = s.refresh(ctx, tx, ids)
		return err
	})
	for _, r := range round {
		r.info, r.err = m[r.id], err
		close(r.done)
	}
}
