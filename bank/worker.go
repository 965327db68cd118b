package bank

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/prometheus/client_golang/prometheus"
)

// Outbox is the part of the ledger the worker needs (ledger/outbox.go).
// ClaimNotifications returns the heads of streams that are due and leases
// them; the worker renews the leases while it sends (RenewLeases) and
// settles each with MarkDelivered (several at once) or MarkFailed. A
// worker that dies in between leaves the notification to be claimed again
// once its lease ends: delivery is at least once. RetryNow ends every
// backoff.
type Outbox interface {
	ClaimNotifications(ctx context.Context, limit int) ([]ledger.Notification, error)
	RenewLeases(ctx context.Context, leases map[int64]int64) ([]int64, time.Time, error)
	MarkDelivered(ctx context.Context, ids ...int64) error
	MarkFailed(ctx context.Context, f ledger.Failure) error
	RetryNow(ctx context.Context) (int64, error)
}

// The real ledger must keep satisfying the interface.
var _ Outbox = (*ledger.Service)(nil)

// Config configures a Worker. URL and Secret are required.
type Config struct {
	URL    string
	Secret []byte
	// Client sends the requests; its Timeout bounds one attempt (default
	// 10 s). Redirects are never followed, whatever its CheckRedirect.
	Client *http.Client
	// Concurrency is how many notifications may be in flight at once, each
	// of a different stream (default 16). While the receiver is failing,
	// one at a time.
	Concurrency int
	// Interval is the pause between polls when nothing is due (default
	// 1 s); Kick wakes the worker sooner.
	Interval time.Duration
	// MinBackoff and MaxBackoff bound a failed notification's retry delay,
	// which doubles with each failed attempt since its last success or
	// reset (defaults 1 s and 1 min). While the receiver fails, one
	// notification is sent at a time, so the cap bounds how long after
	// its return delivery resumes, not the load on it; when it answers
	// again, every backoff ends (ledger.Service.RetryNow).
	MinBackoff, MaxBackoff time.Duration
	// DeadAfter gives a notification up (dead letter) when an attempt fails
	// and it was written, or last resent, at least this long ago (default
	// 72 h). A dead letter no longer holds its stream back; the report
	// and metrics count it, and `offpay ledger outbox resend` sends it
	// again.
	DeadAfter time.Duration
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // default slog.Default()
	// Jitter returns a number in [0, 1); default math/rand/v2.
	Jitter func() float64
	// Metrics, if set, receives the worker's metrics (metrics.go).
	Metrics prometheus.Registerer
	// Format is the body's format: FormatJSON (the default) or
	// FormatCamt054 (camt.go).
	Format string
}

// Worker delivers outbox notifications to one webhook.
type Worker struct {
	out  Outbox
	cfg  Config
	kick chan struct{}
	m    *metrics

	mu   sync.Mutex
	down bool // the last attempt failed at the receiver (not one notification refused)
}

// NewWorker checks cfg and returns a worker over out.
func NewWorker(out Outbox, cfg Config) (*Worker, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bank: webhook URL %q is not an http(s) URL", cfg.URL)
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("bank: webhook secret must be at least 16 bytes")
	}
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	if cfg.Format != FormatJSON && cfg.Format != FormatCamt054 {
		return nil, fmt.Errorf("bank: webhook format %q: want %s or %s", cfg.Format, FormatJSON, FormatCamt054)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect is a failed attempt, never followed: Go's client turns a
	// 301/302/303 into a GET, and a 2xx to that GET would mark a
	// notification delivered that the receiver never got; a 307/308 would
	// send the signed body to wherever the Location points.
	c := *cfg.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &c
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Minute, cfg.MinBackoff)
	}
	if cfg.DeadAfter <= 0 {
		cfg.DeadAfter = 72 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	return &Worker{out: out, cfg: cfg, kick: make(chan struct{}, 1), m: m}, nil
}

// Kick wakes a sleeping Run at once, for example after a sync settled
// payments. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// capacity is how many deliveries may be in flight: one while the
// receiver is failing (a probe), Concurrency otherwise.
func (w *Worker) capacity() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down {
		return 1
	}
	return w.cfg.Concurrency
}

// Run delivers until ctx is done: it keeps up to Concurrency deliveries in
// flight, claiming more as each ends. Outbox errors are logged and
// retried at the next poll. When ctx ends, deliveries in flight are
// abandoned and their leases released, so that a restart sends them at
// once. Run returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	done := make(chan int64, w.cfg.Concurrency) // the ID of a delivered notification, or 0
	var delivered []int64
	inFlight := 0
	claim := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// Deliveries that ended together are recorded in one transaction,
		// before the claim that may take their streams' next notifications.
		for more := true; more; {
			select {
			case id := <-done:
				inFlight--
				if id != 0 {
					delivered = append(delivered, id)
				}
			default:
				more = false
			}
		}
		if len(delivered) > 0 {
			w.markDelivered(ctx, delivered)
			delivered = delivered[:0]
		}
		if free := w.capacity() - inFlight; claim && free > 0 && ctx.Err() == nil {
			ns, err := w.out.ClaimNotifications(ctx, free)
			if err != nil && ctx.Err() == nil {
				w.m.outboxErr.Inc()
				w.cfg.Logger.Error("bank outbox: claim", "err", err)
			}
			for i := range ns {
				inFlight++
				go func(n ledger.Notification) {
					if w.deliver(ctx, &n) {
						done <- n.ID
						return
					}
					done <- 0
				}(ns[i])
			}
			// A full claim means more may be due; otherwise wait for a
			// delivery to end, a kick or the poll.
			claim = err == nil && len(ns) == free
			if !claim {
				timer.Reset(w.cfg.Interval)
			}
		}
		if ctx.Err() != nil && inFlight == 0 {
			return ctx.Err()
		}
		select {
		case id := <-done:
			inFlight--
			if id != 0 {
				delivered = append(delivered, id)
			}
			claim = true
		case <-w.kick:
			claim = true
		case <-timer.C:
			claim = true
		case <-ctx.Done():
			if inFlight == 0 {
				w.markDelivered(context.WithoutCancel(ctx), delivered)
				return ctx.Err()
			}
			claim = false
		}
	}
}

// markDelivered records deliveries. If that fails, they stay pending and
// are delivered again: the receiver dedups by the idempotency key.
func (w *Worker) markDelivered(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := w.out.MarkDelivered(ctx, ids...); err != nil {
		w.m.outboxErr.Inc()
		w.cfg.Logger.Error("bank outbox: mark delivered", "notifications", len(ids), "err", err)
		return fmt.Errorf("mark delivered: %w", err)
	}
	return nil
}

// RunOnce claims what it may (up to Concurrency, or one while the
// receiver is failing), attempts each notification once, concurrently,
// and returns how many it claimed. A failed delivery is not an error of
// RunOnce (it is recorded with MarkFailed); failing to record deliveries
// is.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ns, err := w.out.ClaimNotifications(ctx, w.capacity())
	if err != nil {
		w.m.outboxErr.Inc()
		return 0, fmt.Errorf("claim: %w", err)
	}
	ok := make([]bool, len(ns))
	var wg sync.WaitGroup
	for i := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = w.deliver(ctx, &ns[i])
		}()
	}
	wg.Wait()
	var ids []int64
	for i := range ns {
		if ok[i] {
			ids = append(ids, ns[i].ID)
		}
	}
	return len(ns), w.markDelivered(ctx, ids)
}
