package ledger

import (
	"context"
	"slices"

	"github.com/offpay/offpay"
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
//
// The rounds run on a goroutine of their own while reads queue, not on a
// caller's: a caller whose request ends (cancelled, timed out) returns at
// once, and a round whose callers have all gone is cancelled, so a read
// stuck on one connection holds up the reads queued behind it no longer
// than its own callers wait. Each caller gets its own row's error (one
// device's bad stored certificate fails only its own upload).

// maxFreshReads bounds the devices of one read.
const maxFreshReads = 1000

type freshRead struct {
	id    protocol.KeyID
	info  *devInfo
	err   error
	done  chan struct{}
	round *freshRound // once its round has begun (Service.rmu)
}

// freshRound is one read for the requests in it; live counts those still
// waiting (Service.rmu), and the read is cancelled when none is.
type freshRound struct {
	live   int
	cancel context.CancelFunc
}

// freshDevice reads the row of device id afresh (nil if not enrolled).
func (s *Service) freshDevice(ctx context.Context, id protocol.KeyID) (*devInfo, error) {
	r := &freshRead{id: id, done: make(chan struct{})}
	s.rmu.Lock()
	s.reads = append(s.reads, r)
	if !s.reading {
		s.reading = true
		go s.freshRounds()
	}
	s.rmu.Unlock()
	select {
	case <-r.done:
		return r.info, r.err
	case <-ctx.Done():
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if rd := r.round; rd != nil {
		if rd.live--; rd.live == 0 {
			rd.cancel()
		}
	} else if i := slices.Index(s.reads, r); i >= 0 {
		s.reads = slices.Delete(s.reads, i, i+1)
	}
	return nil, ctx.Err()
}

// freshRounds reads for the queued requests, a round at a time, until
// none is queued.
func (s *Service) freshRounds() {
	for {
		s.rmu.Lock()
		n := min(len(s.reads), maxFreshReads)
		if n == 0 {
			s.reading = false
			s.rmu.Unlock()
			return
		}
		reads := slices.Clone(s.reads[:n])
		s.reads = slices.Clone(s.reads[n:])
		ctx, cancel := context.WithCancel(context.Background())
		rd := &freshRound{live: n, cancel: cancel}
		for _, r := range reads {
			r.round = rd
		}
		s.rmu.Unlock()
		s.readFresh(ctx, reads)
		cancel()
	}
}

// readFresh reads the rows of reads in one transaction and answers each.
// A panic is each read's error (no caller's goroutine would recover it).
func (s *Service) readFresh(ctx context.Context, reads []*freshRead) {
	var rows map[protocol.KeyID]*DeviceRow
	var err error
	defer func() {
		if p := recover(); p != nil {
			err = offpay.Errorf(offpay.EINTERNAL, "reading device rows: %v", p)
			rows = nil
		}
		for _, r := range reads {
			switch row := rows[r.id]; {
			case err != nil:
				r.err = err
			case row != nil:
				r.info, r.err = s.cache(row)
			}
			close(r.done)
		}
	}()
	ids := make([]protocol.KeyID, len(reads))
	for i, r := range reads {
		ids[i] = r.id
	}
	err = s.view(ctx, func(tx Tx) (err error) {
		rows, err = tx.Devices(ctx, ids)
		return err
	})
}
