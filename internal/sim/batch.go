package sim

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Batch is the outcome of a range of seeds.
type Batch struct {
	From, To uint64    // inclusive
	Runs     int       // seeds run
	Failed   []*Result // failed seeds, in seed order
	Elapsed  time.Duration
}

// SeedsPerSecond is the batch's throughput.
func (b *Batch) SeedsPerSecond() float64 { return float64(b.Runs) / b.Elapsed.Seconds() }

// RunSeeds runs every seed from..to under cfg on workers goroutines
// (0: GOMAXPROCS), calling progress (if not nil) after each seed.
func RunSeeds(ctx context.Context, from, to uint64, cfg Config, workers int, progress func(done, total int)) (*Batch, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	total := int(to - from + 1)
	failed := make([]*Result, total)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, done atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(total) || ctx.Err() != nil {
					return
				}
				r, err := Run(ctx, from+uint64(i), cfg)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				if r.Failed() {
					failed[i] = r
				}
				n := done.Add(1)
				if progress != nil {
					mu.Lock()
					progress(int(n), total)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	b := &Batch{From: from, To: to, Runs: int(done.Load()), Elapsed: time.Since(start)}
	for _, r := range failed {
		if r != nil {
			b.Failed = append(b.Failed, r)
		}
	}
	return b, nil
}
