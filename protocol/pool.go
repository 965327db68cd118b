package protocol

import (
	"runtime"
	"sync"
)

// Check is one signature for a Pool: its algorithm, the key, the signing
// input and the signature.
type Check struct {
	Alg           Alg
	Key, Msg, Sig []byte
}

// Pool verifies the signatures of concurrent callers in shared batches.
// A caller's checks queue behind whatever other callers have queued;
// while Workers batches are being verified the queue grows, and the next
// batch takes from its head as many whole callers as fit in MaxBatch
// signatures. No caller waits for a timer: alone, a caller's checks are
// verified at once as one batch of their own, as Batch would. Batch
// verification costs about a third of one-by-one per signature at 1,024
// signatures but hardly less at five, so many small requests arriving
// together (devices back after an outage) gain the most.
//
// Each signature's result is exactly Batch's, hence VerifySignature's.
// A batch holding a bad signature is verified again one by one (Batch):
// a forger's signature makes the honest ones beside it cost about what
// they would cost alone.
//
// The zero Pool is ready: MaxBatch 1,024, Workers GOMAXPROCS.
type Pool struct {
	MaxBatch int
	Workers  int
	// Slots, if set, is a processor budget shared with other work: each
	// batch holds one (a send) while it is verified.
	Slots chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*poolReq
	running int
	batches int // verified so far (for tests)
	most    int // the most signatures in one of them
}

type poolReq struct {
	checks []Check
	out    []error
	done   bool
}

// Verify checks cs and returns one error (nil: valid) per check, in
// order.
func (p *Pool) Verify(cs []Check) []error {
	out := make([]error, len(cs))
	if len(cs) == 0 {
		return out
	}
	r := &poolReq{checks: cs, out: out}
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cond == nil {
		p.cond = sync.NewCond(&p.mu)
	}
	p.queue = append(p.queue, r)
	for !r.done {
		if p.running >= workers || len(p.queue) == 0 {
			p.cond.Wait()
			continue
		}
		// Verify the next batch, whoever's it is: every caller waiting
		// is as likely to be in it.
		take := p.take()
		p.running++
		p.batches++
		p.mu.Unlock()
		p.verify(take)
		p.mu.Lock()
		p.running--
		for _, t := range take {
			t.done = true
		}
		p.cond.Broadcast()
	}
	return out
}

// take removes from the head of the queue the callers of the next batch:
// as many as fit in MaxBatch signatures, and at least one.
func (p *Pool) take() []*poolReq {
	limit := p.MaxBatch
	if limit <= 0 {
		limit = 1024
	}
	n, i := 0, 0
	for i < len(p.queue) && (i == 0 || n+len(p.queue[i].checks) <= limit) {
		n += len(p.queue[i].checks)
		i++
	}
	p.most = max(p.most, n)
	take := p.queue[:i:i]
	p.queue = p.queue[i:]
	if len(p.queue) == 0 {
		p.queue = nil // let the array go
	}
	return take
}

func (p *Pool) verify(take []*poolReq) {
	if p.Slots != nil {
		p.Slots <- struct{}{}
		defer func() { <-p.Slots }()
	}
	n := 0
	for _, t := range take {
		n += len(t.checks)
	}
	b := NewBatch(n)
	for _, t := range take {
		for _, c := range t.checks {
			b.Add(c.Alg, c.Key, c.Msg, c.Sig)
		}
	}
	res := b.Verify()
	for _, t := range take {
		res = res[copy(t.out, res):]
	}
}
