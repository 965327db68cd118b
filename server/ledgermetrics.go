package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/prometheus/client_golang/prometheus"
)

// reportTTL is how long a scrape reuses the last reconciliation: a report
// reads every account and device, too much for every scrape.
const reportTTL = 15 * time.Second

// ledgerCollector exports what an operator watches, from the ledger's
// reconciliation (ledger.Report): whether money is conserved, where it is,
// what is exposed or lost, fraud, revocations, and how long devices have
// been away (sync lag).
type ledgerCollector struct {
	l   Ledger
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	at   time.Time
	last *ledger.Report

	conserved, behind                               *prometheus.Desc
	money                                           *prometheus.Desc
	settled, doubleSpends, revoked, devices, unseen *prometheus.Desc
	oldestSync                                      *prometheus.Desc
	batches, batchUploads, reruns, apply, applyCPU  *prometheus.Desc
}

// batcher is a ledger that counts its group commits (ledger.Service).
type batcher interface{ Batches() ledger.BatchStats }

func newLedgerCollector(l Ledger, log *slog.Logger, now func() time.Time) *ledgerCollector {
	return &ledgerCollector{l: l, log: log, now: now,
		conserved: prometheus.NewDesc("offpay_ledger_conservation_ok",
			"1 when issued + losses + unassessed = balances + outstanding and every check of the report holds, else 0.", nil, nil),
		behind: prometheus.NewDesc("offpay_ledger_behind_devices",
			"Devices that showed this ledger's acknowledgement of more of their log than it holds: it lost data they will give back.", nil, nil),
		money: prometheus.NewDesc("offpay_ledger_money_minor",
			"The reconciliation's figures in minor units: issued, accounts, outstanding, unassessed (exposure), held, losses, recovered, refundable (sales held for refunds), released (sales no longer held that a late refund may still draw on).", []string{"figure"}, nil),
		settled:      prometheus.NewDesc("offpay_ledger_settled_payments", "Payments settled.", nil, nil),
		doubleSpends: prometheus.NewDesc("offpay_ledger_double_spends", "Equivocation proofs stored.", nil, nil),
		revoked:      prometheus.NewDesc("offpay_ledger_revoked_devices", "Devices revoked.", nil, nil),
		devices:      prometheus.NewDesc("offpay_ledger_devices", "Devices enrolled.", nil, nil),
		unseen: prometheus.NewDesc("offpay_ledger_devices_unseen",
			"Active devices not given a ledger time (enrolment or a sync result) for more than the period: sync lag.", []string{"over"}, nil),
		oldestSync: prometheus.NewDesc("offpay_ledger_oldest_sync_age_seconds",
			"Seconds since the active device that has been away longest last synced.", nil, nil),
		batches: prometheus.NewDesc("offpay_ledger_group_commits_total",
			"Transactions that applied uploads (group commit) in this process.", nil, nil),
		batchUploads: prometheus.NewDesc("offpay_ledger_group_commit_uploads_total",
			"Uploads those transactions applied.", nil, nil),
		reruns: prometheus.NewDesc("offpay_ledger_group_commit_reruns_total",
			"Batches applied a second time, with savepoints, because an upload failed on its own.", nil, nil),
		apply: prometheus.NewDesc("offpay_ledger_group_commit_apply_seconds_total",
			"Time spent applying batches, the part of settlement that runs one batch at a time: its rate is how busy that part is (near 1: saturated, uploads queue).", nil, nil),
		applyCPU: prometheus.NewDesc("offpay_ledger_group_commit_apply_cpu_seconds_total",
			"CPU time of that work on its thread (Linux), without waits for a core or the database server's work.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conserved, c.behind, c.money, c.settled, c.doubleSpends, c.revoked, c.devices, c.unseen, c.oldestSync,
		c.batches, c.batchUploads, c.reruns, c.apply, c.applyCPU} {
		ch <- d
	}
}

func (c *ledgerCollector) report() *ledger.Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && c.now().Sub(c.at) < reportTTL {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.l.Report(ctx)
	if err != nil {
		c.log.Warn("metrics: the reconciliation failed", "err", err)
		return c.last
	}
	c.last, c.at = r, c.now()
	return r
}

// Collect implements prometheus.Collector.
func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	if b, ok := c.l.(batcher); ok {
		st := b.Batches()
		counter := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
		}
		counter(c.batches, float64(st.Batches))
		counter(c.batchUploads, float64(st.Uploads))
		counter(c.reruns, float64(st.Reruns))
		counter(c.apply, st.ApplyWall.Seconds())
		counter(c.applyCPU, st.ApplyCPU.Seconds())
	}
	r := c.report()
	if r == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ok := 0.0
	if r.ConservationOK {
		ok = 1
	}
	gauge(c.conserved, ok)
	gauge(c.behind, float64(len(r.Behind)))
	for name, v := range map[string]int64{"issued": r.Issued, "accounts": r.Accounts, "outstanding": r.Outstanding,
		"unassessed": r.Unassessed, "held": r.Held, "losses": r.Losses, "recovered": r.Recovered,
		"refundable": r.Refundable, "released": r.Released} {
		gauge(c.money, float64(v), name)
	}
	gauge(c.settled, float64(r.Settled))
	gauge(c.doubleSpends, float64(len(r.DoubleSpends)))
	gauge(c.revoked, float64(len(r.RevokedDevices)))
	gauge(c.devices, float64(len(r.Devices)))
	now := c.now()
	periods := []struct {
		label string
		d     time.Duration
	}{{"1d", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}
	counts := make([]int, len(periods))
	var oldest time.Duration
	for _, d := range r.Devices {
		if d.Status != "active" || d.LastSeen.IsZero() {
			continue
		}
		age := now.Sub(d.LastSeen)
		oldest = max(oldest, age)
		for i, p := range periods {
			if age > p.d {
				counts[i]++
			}
		}
	}
	for i, p := range periods {
		gauge(c.unseen, float64(counts[i]), p.label)
	}
	gauge(c.oldestSync, oldest.Seconds())
}
