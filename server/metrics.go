package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	syncEntries     prometheus.Counter
	limited         *prometheus.CounterVec
	unauthenticated *prometheus.CounterVec
	replays         prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offpay_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "offpay_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		syncEntries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offpay_sync_entries_total",
			Help: "Log entries carried by successful sync uploads.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offpay_http_rate_limited_total",
			Help: "Requests refused by a rate limit, by limit (address, device, forgery, token).",
		}, []string{"limit"}),
		unauthenticated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offpay_http_unauthenticated_total",
			Help: "Device requests that did not authenticate: malformed bodies (charged to the client address) and forged or unknown signers (charged to its forgery budget).",
		}, []string{"kind"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offpay_http_replays_total",
			Help: "Device requests answered with the stored answer to the same bytes.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.syncEntries, m.limited, m.unauthenticated, m.replays)
	return m
}

// observe records one answered request. route is a registered pattern or
// "unmatched", so label cardinality stays bounded whatever paths clients
// send.
func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}
