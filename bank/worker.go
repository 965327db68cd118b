package bank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/prometheus/client_golang/prometheus"
)

// Outbox is the part of the ledger the worker needs. ClaimNotifications
// returns notifications due for an attempt and keeps them from other
// workers for a while; the worker then settles each with MarkDelivered or
// MarkFailed. A worker that dies between the two leaves the notification to
// be claimed again: delivery is at least once. A claimed notification's
// Attempts counts its claims, this one included (as ledger.Service does),
// so that attempts cut short by a crash still lengthen the backoff.
type Outbox interface {
	ClaimNotifications(ctx context.Context, limit int) ([]ledger.Notification, error)
	MarkDelivered(ctx context.Context, id int64) error
	MarkFailed(ctx context.Context, id int64, next time.Time, lastErr string) error
}

// The real ledger must keep satisfying the interface.
var _ Outbox = (*ledger.Service)(nil)

// Config configures a Worker. URL and Secret are required.
type Config struct {
	URL    string
	Secret []byte
	// Client sends the requests; its Timeout bounds one attempt. The default
	// has a 10 s timeout.
	Client *http.Client
	// Batch is how many notifications one claim takes (default 32).
	Batch int
	// Interval is the pause between polls when the outbox is drained
	// (default 1 s).
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the retry delay, which doubles with
	// each failed attempt (defaults 1 s and 1 h). A notification is never
	// dropped: after many failures it is retried every MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	Now                    func() time.Time // default time.Now
	Logger                 *slog.Logger     // default slog.Default()
	// Jitter returns a number in [0, 1); default math/rand/v2.
	Jitter func() float64
	// Metrics, if set, receives offpay_bank_deliveries_total{result} and
	// offpay_bank_outbox_errors_total.
	Metrics prometheus.Registerer
}

// Worker delivers outbox notifications to one webhook.
type Worker struct {
	out       Outbox
	cfg       Config
	kick      chan struct{}
	delivered prometheus.Counter
	failed    prometheus.Counter
	outboxErr prometheus.Counter
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
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 32
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Hour, cfg.MinBackoff)
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
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "offpay_bank_deliveries_total",
		Help: "Webhook delivery attempts, by result (delivered, failed).",
	}, []string{"result"})
	outboxErr := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "offpay_bank_outbox_errors_total",
		Help: "Failures to claim or settle outbox notifications.",
	})
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(deliveries); err != nil {
			return nil, fmt.Errorf("bank: metrics: %w", err)
		}
		if err := cfg.Metrics.Register(outboxErr); err != nil {
			return nil, fmt.Errorf("bank: metrics: %w", err)
		}
	}
	return &Worker{out: out, cfg: cfg, kick: make(chan struct{}, 1),
		delivered: deliveries.WithLabelValues("delivered"), failed: deliveries.WithLabelValues("failed"), outboxErr: outboxErr}, nil
}

// Kick wakes a sleeping Run at once, for example after a sync settled
// payments. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done. Outbox errors are logged and retried at
// the next poll; Run returns only ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	for {
		n, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			w.cfg.Logger.Error("bank outbox", "err", err)
		}
		if err == nil && n == w.cfg.Batch {
			continue // more may be waiting
		}
		t := time.NewTimer(w.cfg.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-w.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// RunOnce claims one batch and attempts each notification once. It returns
// how many it claimed. A failed delivery is not an error of RunOnce (it is
// recorded with MarkFailed); an outbox error is.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ns, err := w.out.ClaimNotifications(ctx, w.cfg.Batch)
	if err != nil {
		w.outboxErr.Inc()
		return 0, fmt.Errorf("claim: %w", err)
	}
	var errs []error
	for i := range ns {
		if err := w.deliver(ctx, &ns[i]); err != nil {
			w.outboxErr.Inc()
			errs = append(errs, err)
		}
	}
	return len(ns), errors.Join(errs...)
}

// event is the webhook body. It holds nothing that changes between
// attempts, so every attempt of one notification sends the same bytes.
type event struct {
	ID        string          `json:"id"` // the idempotency key
	Kind      string          `json:"kind"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Body returns the webhook body of n.
func Body(n *ledger.Notification) ([]byte, error) {
	if !json.Valid(n.Payload) {
		return nil, errors.New("payload is not JSON")
	}
	return json.Marshal(event{ID: n.IdempotencyKey, Kind: n.Kind, CreatedAt: n.CreatedAt.UTC(), Data: n.Payload})
}

func (w *Worker) deliver(ctx context.Context, n *ledger.Notification) error {
	attemptErr := w.post(ctx, n)
	if attemptErr == nil {
		w.delivered.Inc()
		if err := w.out.MarkDelivered(ctx, n.ID); err != nil {
			// It was delivered; the outbox will offer it again and the
			// receiver dedups by the idempotency key.
			return fmt.Errorf("mark delivered %d: %w", n.ID, err)
		}
		return nil
	}
	w.failed.Inc()
	attempt := max(n.Attempts, 1)
	next := w.cfg.Now().Add(w.Backoff(attempt))
	w.cfg.Logger.Warn("bank delivery failed", "id", n.ID, "kind", n.Kind, "attempt", attempt, "next", next, "err", attemptErr)
	if err := w.out.MarkFailed(ctx, n.ID, next, truncate(attemptErr.Error(), 500)); err != nil {
		return fmt.Errorf("mark failed %d: %w", n.ID, err)
	}
	return nil
}

func (w *Worker) post(ctx context.Context, n *ledger.Notification) error {
	body, err := Body(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "offpay-ledger")
	req.Header.Set(IdempotencyHeader, n.IdempotencyKey)
	req.Header.Set(EventHeader, n.Kind)
	req.Header.Set(SignatureHeader, Sign(w.cfg.Secret, w.cfg.Now(), body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s: %q", resp.Status, snippet)
	}
	return nil
}

// Backoff is the delay before the next attempt after attempt number
// attempt (from 1) failed: MinBackoff doubled per attempt, capped at MaxBackoff, with
// "equal jitter" (between half and all of it) so that receivers coming
// back from an outage are not hit by every retry at once.
func (w *Worker) Backoff(attempt int) time.Duration {
	d := w.cfg.MinBackoff
	for i := 1; i < attempt && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	half := d / 2
	return half + time.Duration(w.cfg.Jitter()*float64(d-half))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
