package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// The rate limits, as named in logs, metrics and messages.
const (
	limitAddress = "address" // unauthenticated requests per client address
	limitDevice  = "device"  // authenticated requests per device key
	limitForgery = "forgery" // requests failing authentication per client address
	limitToken   = "token"   // wrong administrator tokens per client address
)

// refusalSummaryEvery is how often at most the log says how many requests
// the rate limits refused. Each refused request is logged at DEBUG only: a
// flood must not become a flood of log lines.
const refusalSummaryEvery = time.Minute

// refusals counts the requests the rate limits refused since the last
// summary, by limit and by key (at most maxRefusalKeys keys).
type refusals struct {
	mu     sync.Mutex
	now    func() time.Time
	last   time.Time // of the last summary; zero: none yet
	total  int
	byKind map[string]int
	byKey  map[string]int
}

const maxRefusalKeys = 1000

func newRefusals(now func() time.Time) *refusals {
	return &refusals{now: now, byKind: map[string]int{}, byKey: map[string]int{}}
}

// add counts one refusal and, if the last summary is older than
// refusalSummaryEvery (or there was none), logs a summary of everything
// counted since at WARN.
func (f *refusals) add(ctx context.Context, log *slog.Logger, kind, key string) {
	f.mu.Lock()
	f.total++
	f.byKind[kind]++
	if _, ok := f.byKey[key]; ok || len(f.byKey) < maxRefusalKeys {
		f.byKey[key]++
	}
	now := f.now()
	if !f.last.IsZero() && now.Sub(f.last) < refusalSummaryEvery {
		f.mu.Unlock()
		return
	}
	since := f.last
	attrs := []slog.Attr{slog.Int("refused", f.total)}
	for _, k := range []string{limitAddress, limitDevice, limitForgery, limitToken} {
		if n := f.byKind[k]; n > 0 {
			attrs = append(attrs, slog.Int(k, n))
		}
	}
	attrs = append(attrs, slog.String("top", f.top(5)))
	if !since.IsZero() {
		attrs = append(attrs, slog.Duration("since", now.Sub(since)))
	}
	f.last, f.total = now, 0
	clear(f.byKind)
	clear(f.byKey)
	f.mu.Unlock()
	log.LogAttrs(ctx, slog.LevelWarn, "requests refused by rate limits (each one is logged at DEBUG; next summary in a minute at most)", attrs...)
}

// top lists the n keys refused most often. The caller holds mu.
func (f *refusals) top(n int) string {
	type kc struct {
		k string
		c int
	}
	var all []kc
	for k, c := range f.byKey {
		all = append(all, kc{k, c})
	}
	slices.SortFunc(all, func(a, b kc) int { return cmp.Or(b.c-a.c, strings.Compare(a.k, b.k)) })
	var sb strings.Builder
	for i, e := range all[:min(n, len(all))] {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s=%d", e.k, e.c)
	}
	return sb.String()
}
