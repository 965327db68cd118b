package bank

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/offpay/offpay/ledger"
)

// Failure classes: the result label of offpay_bank_deliveries_total. All
// but rejected say the receiver as a whole is failing (the worker then
// sends one notification at a time until it answers again); rejected is
// a 4xx about one notification.
const (
	resultDelivered    = "delivered"
	resultNetwork      = "network"      // no connection, or it closed without an answer
	resultTimeout      = "timeout"      // no answer within the client's timeout
	resultRedirect     = "redirect"     // 3xx: the URL is not the receiver's
	resultUnauthorized = "unauthorized" // 401, 403: most likely the receiver holds another secret
	resultNotFound     = "not_found"    // 404, 405: the URL is not the receiver's endpoint
	resultServerError  = "server_error" // 5xx, 408, 429
	resultRejected     = "rejected"     // another 4xx: the receiver refused this notification
)

var results = []string{resultDelivered, resultNetwork, resultTimeout, resultRedirect, resultUnauthorized, resultNotFound, resultServerError, resultRejected}

// attempt is the outcome of one POST.
type attempt struct {
	class string
	err   error
}

// deliver attempts n once, renewing its lease meanwhile, and records a
// failure; it reports a delivery, which the caller records (in batches).
func (w *Worker) deliver(ctx context.Context, n *ledger.Notification) bool {
	w.m.inFlight.Inc()
	defer w.m.inFlight.Dec()
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost, stop := w.renew(actx, n, cancel)
	start := time.Now()
	a := w.post(actx, n)
	stop()
	w.m.duration.Observe(time.Since(start).Seconds())
	if *lost {
		// Another deliverer holds it now: its outcome is not ours to record.
		w.m.leaseLost.Inc()
		w.cfg.Logger.Warn("bank delivery: lease lost while sending", "key", n.IdempotencyKey)
		return false
	}
	if ctx.Err() != nil && a.err != nil {
		// Stopping: give the notification back at once, so that a restart
		// does not wait out the lease.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer rcancel()
		_ = w.out.MarkFailed(rctx, ledger.Failure{ID: n.ID, Lease: n.Lease, Next: w.cfg.Now(), Err: "deliverer stopped"})
		return false
	}
	w.m.deliveries.WithLabelValues(a.class).Inc()
	if a.err == nil {
		w.recovered(ctx)
		return true
	}
	if a.class != resultRejected {
		w.mu.Lock()
		w.down = true
		w.mu.Unlock()
		w.m.up.Set(0)
	}
	now := w.cfg.Now()
	f := ledger.Failure{ID: n.ID, Lease: n.Lease, Next: now.Add(w.Backoff(max(n.Streak, 1))), Err: truncate(a.err.Error(), 500),
		Dead: now.Sub(n.Since) >= w.cfg.DeadAfter}
	log := w.cfg.Logger.Warn
	switch {
	case f.Dead:
		log = w.cfg.Logger.Error
		w.m.dead.Inc()
		f.Err = "dead letter: " + f.Err
	case a.class == resultUnauthorized || a.class == resultRedirect || a.class == resultNotFound:
		log = w.cfg.Logger.Error
	}
	log("bank delivery failed", "key", n.IdempotencyKey, "account", n.Stream, "seq", n.Seq, "result", a.class,
		"attempt", n.Attempts, "next", f.Next, "dead_letter", f.Dead, "err", a.err)
	if err := w.out.MarkFailed(ctx, f); err != nil {
		w.m.outboxErr.Inc()
		w.cfg.Logger.Error("bank outbox: mark failed", "key", n.IdempotencyKey, "err", err)
	}
	return false
}

// recovered notes a success; if the receiver was failing, every
// notification waiting out a backoff is made due now.
func (w *Worker) recovered(ctx context.Context) {
	w.m.up.Set(1)
	w.mu.Lock()
	was := w.down
	w.down = false
	w.mu.Unlock()
	if !was {
		return
	}
	n, err := w.out.RetryNow(ctx)
	if err != nil {
		w.m.outboxErr.Inc()
		w.cfg.Logger.Error("bank outbox: retry now", "err", err)
		return
	}
	w.cfg.Logger.Info("bank receiver answers again: backlog retried now", "notifications", n)
	w.Kick()
}

// renew keeps n's lease while it is being sent, renewing it at half its
// length. If the lease is lost (it expired and another deliverer claimed
// n), it cancels the attempt and sets *lost. stop ends the renewals.
func (w *Worker) renew(ctx context.Context, n *ledger.Notification, cancel context.CancelFunc) (lost *bool, stop func()) {
	lost = new(bool)
	every := n.LeaseUntil.Sub(w.cfg.Now()) / 2
	if n.LeaseUntil.IsZero() || every <= 0 {
		return lost, func() {}
	}
	every = max(every, 10*time.Millisecond)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ids, _, err := w.out.RenewLeases(ctx, map[int64]int64{n.ID: n.Lease})
			switch {
			case err != nil:
				if ctx.Err() == nil {
					w.m.outboxErr.Inc()
				}
			case len(ids) == 0:
				*lost = true
				cancel()
				return
			}
		}
	}()
	return lost, func() { close(quit); wg.Wait() }
}

// post sends n once and classifies the outcome.
func (w *Worker) post(ctx context.Context, n *ledger.Notification) attempt {
	body, ctype, err := w.body(n)
	if err != nil {
		return attempt{resultRejected, err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return attempt{resultNetwork, err}
	}
	setHeaders(req.Header, w.cfg.Secret, w.cfg.Now(), n, body)
	req.Header.Set("Content-Type", ctype)
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		var te interface{ Timeout() bool }
		if errors.As(err, &te) && te.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return attempt{resultTimeout, err}
		}
		return attempt{resultNetwork, err}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // lets the connection be reused
	code := resp.StatusCode
	switch {
	case code/100 == 2:
		return attempt{resultDelivered, nil}
	case code/100 == 3:
		return attempt{resultRedirect, fmt.Errorf("webhook answered %s, a redirect to %q: not followed; configure the URL it redirects to",
			resp.Status, resp.Header.Get("Location"))}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return attempt{resultUnauthorized, fmt.Errorf("webhook answered %s: %q (does the receiver hold this ledger's webhook secret?)", resp.Status, snippet)}
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return attempt{resultNotFound, fmt.Errorf("webhook answered %s: %q (is the URL the receiver's endpoint?)", resp.Status, snippet)}
	case code/100 == 4 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return attempt{resultRejected, fmt.Errorf("webhook answered %s: %q", resp.Status, snippet)}
	}
	return attempt{resultServerError, fmt.Errorf("webhook answered %s: %q", resp.Status, snippet)}
}

// Backoff is the delay before the next attempt after attempt number
// attempt (from 1, counted since the notification's last success or
// reset) failed: MinBackoff doubled per attempt, capped at MaxBackoff, with
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
