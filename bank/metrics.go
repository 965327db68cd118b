package bank

import (
	"context"
	"fmt"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the worker's own. The outbox's counts (pending, dead) come
// from OutboxCollector, which reads the store at each scrape.
type metrics struct {
	deliveries *prometheus.CounterVec
	dead       prometheus.Counter
	leaseLost  prometheus.Counter
	outboxErr  prometheus.Counter
	inFlight   prometheus.Gauge
	up         prometheus.Gauge
	duration   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offpay_bank_deliveries_total",
			Help: "Webhook delivery attempts by result: delivered, network, timeout, redirect, unauthorized (401/403: check the secret), not_found (404/405: check the URL), server_error (5xx, 408, 429), rejected (another 4xx).",
		}, []string{"result"}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offpay_bank_dead_letters_total",
			Help: "Notifications given up after failing for longer than the dead-letter age.",
		}),
		leaseLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offpay_bank_leases_lost_total",
			Help: "Deliveries abandoned because their lease expired and another deliverer claimed them.",
		}),
		outboxErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offpay_bank_outbox_errors_total",
			Help: "Failures to claim, renew or settle outbox notifications.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "offpay_bank_deliveries_in_flight",
			Help: "Webhook deliveries being sent.",
		}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "offpay_bank_receiver_up",
			Help: "1 if the last delivery attempt that reached a verdict on the receiver succeeded, 0 if it failed.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "offpay_bank_delivery_duration_seconds",
			Help:    "Time of one webhook delivery attempt.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	for _, r := range results {
		m.deliveries.WithLabelValues(r) // every result shows, at 0
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.deliveries, m.dead, m.leaseLost, m.outboxErr, m.inFlight, m.up, m.duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("bank: metrics: %w", err)
			}
		}
	}
	return m, nil
}

// OutboxCollector exports the outbox's counts, read from the store at
// each scrape: offpay_bank_outbox_notifications{state="pending"|"dead"}
// and offpay_bank_outbox_oldest_pending_seconds (0 when none is pending).
// stats is ledger.Service.OutboxStats; now defaults to time.Now.
func OutboxCollector(stats func(context.Context) (*ledger.OutboxStats, error), now func() time.Time) prometheus.Collector {
	if now == nil {
		now = time.Now
	}
	return &outboxCollector{stats: stats, now: now}
}

var (
	descNotifications = prometheus.NewDesc("offpay_bank_outbox_notifications",
		"Notifications in the outbox by state: pending (to be delivered), dead (given up: offpay ledger outbox resend).", []string{"state"}, nil)
	descOldest = prometheus.NewDesc("offpay_bank_outbox_oldest_pending_seconds",
		"Age of the oldest pending notification (0 when none is pending).", nil, nil)
	descScrapeErr = prometheus.NewDesc("offpay_bank_outbox_scrape_error",
		"1 if the outbox could not be read for this scrape.", nil, nil)
)

type outboxCollector struct {
	stats func(context.Context) (*ledger.OutboxStats, error)
	now   func() time.Time
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descNotifications
	ch <- descOldest
	ch <- descScrapeErr
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 0)
	ch <- prometheus.MustNewConstMetric(descNotifications, prometheus.GaugeValue, float64(st.Pending), "pending")
	ch <- prometheus.MustNewConstMetric(descNotifications, prometheus.GaugeValue, float64(st.Dead), "dead")
	age := 0.0
	if st.OldestPending != nil {
		age = max(0, c.now().Sub(*st.OldestPending).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age)
}
