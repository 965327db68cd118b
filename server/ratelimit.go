package server

import (
	"math"
	"sync"
	"time"
)

// RateLimit configures token buckets. Zero fields take the defaults (see
// Options).
type RateLimit struct {
	PerSecond float64 // sustained requests per second per key
	Burst     int     // requests a quiet key may send at once
	MaxKeys   int     // buckets held at once, bounding memory (default 100000)
	Disabled  bool
}

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter holds token buckets by key. When it holds MaxKeys buckets it
// first forgets the full ones (forgetting them changes nothing), then
// arbitrary ones: a forgotten bucket comes back full, which errs towards
// serving a device rather than towards unbounded memory.
type limiter struct {
	mu  sync.Mutex
	cfg RateLimit
	now func() time.Time
	m   map[string]*bucket
}

func newLimiter(cfg RateLimit, now func() time.Time, perSecond float64, burst int) *limiter {
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = perSecond
	}
	if cfg.Burst <= 0 {
		cfg.Burst = burst
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100000
	}
	return &limiter{cfg: cfg, now: now, m: make(map[string]*bucket)}
}

// get returns key's bucket refilled to now, creating it if create is set.
func (l *limiter) get(key string, create bool) *bucket {
	now := l.now()
	b, ok := l.m[key]
	if !ok {
		if !create {
			return nil
		}
		if len(l.m) >= l.cfg.MaxKeys {
			l.evict(now)
		}
		b = &bucket{tokens: float64(l.cfg.Burst), last: now}
		l.m[key] = b
		return b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(l.cfg.Burst), b.tokens+el*l.cfg.PerSecond)
		b.last = now
	}
	return b
}

func (l *limiter) evict(now time.Time) {
	full := float64(l.cfg.Burst)
	for k, b := range l.m {
		if b.tokens+now.Sub(b.last).Seconds()*l.cfg.PerSecond >= full {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < l.cfg.MaxKeys*7/8 {
			break
		}
		delete(l.m, k)
	}
}

// allow takes a token from key's bucket. If there is none it says how long
// until there is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.cfg.Disabled {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(key, true)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.cfg.PerSecond * float64(time.Second))
}

// refund gives back a token taken by allow.
func (l *limiter) refund(key string) {
	if l.cfg.Disabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.get(key, false); b != nil {
		b.tokens = math.Min(float64(l.cfg.Burst), b.tokens+1)
	}
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
