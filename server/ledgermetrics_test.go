package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledger/ledgertest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestLedgerMetrics: /metrics carries what an operator watches, from the
// real ledger's reconciliation; and the shipped Grafana dashboard asks
// only for metrics the server exports.
func TestLedgerMetrics(t *testing.T) {
	svc, _ := realLedger(t)
	ctx := context.Background()
	if _, err := svc.CreateAccount(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Deposit(ctx, "alice", 1234, "d1"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(svc, Options{AdminToken: "t", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	// A device, a reservation, a sync: one group commit of one upload.
	dev := ledgertest.NewDevice("metered", "EUR")
	dev.Time = uint64(time.Now().Unix())
	en, err := svc.Enrol(ctx, dev.Enrolment("alice"))
	if err != nil {
		t.Fatal(err)
	}
	dev.Cert = en.Device
	l, err := svc.Reserve(ctx, dev.Reserve(100, 1))
	if err != nil {
		t.Fatal(err)
	}
	dev.ApplyLoad(l)
	if _, err := svc.Sync(ctx, dev.UploadAll()); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		"offpay_ledger_conservation_ok 1",
		"offpay_ledger_behind_devices 0",
		`offpay_ledger_money_minor{figure="issued"} 1234`,
		`offpay_ledger_money_minor{figure="unassessed"} 0`,
		"offpay_ledger_double_spends 0",
		`offpay_ledger_devices_unseen{over="7d"} 0`,
		"offpay_ledger_group_commits_total 1",
		"offpay_ledger_group_commit_uploads_total 1",
		"offpay_ledger_group_commit_reruns_total 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`offpay_ledger_group_commit_apply_seconds_total (\S+)`).FindStringSubmatch(text); m == nil || m[1] == "0" {
		t.Errorf("/metrics: time applying batches %v", m)
	}
	// Every metric the server declares (a vector shows on /metrics only
	// once it has a series).
	exported := map[string]bool{}
	m := newMetrics(prometheus.NewRegistry())
	ch := make(chan *prometheus.Desc, 100)
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.syncEntries, m.limited, m.unauthenticated, m.replays,
		newLedgerCollector(svc, nil, time.Now)} {
		c.Describe(ch)
	}
	close(ch)
	for d := range ch {
		if f := regexp.MustCompile(`fqName: "(\w+)"`).FindStringSubmatch(d.String()); f != nil {
			exported[f[1]] = true
		}
	}
	dash, err := os.ReadFile("../docs/grafana/offpay-ledger.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, name := range regexp.MustCompile(`offpay_\w+`).FindAllString(tg.Expr, -1) {
				n++
				base := strings.TrimSuffix(name, "_bucket")
				if !exported[base] && !exported[name] {
					t.Errorf("the dashboard asks for %s, which /metrics does not export", name)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("the dashboard names %d metrics", n)
	}
}

// TestLedgerMetricsFigures: every money figure of the reconciliation is
// exported under its own label with its own value (a report whose figures
// all differ, so a swapped or missing label shows).
func TestLedgerMetricsFigures(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newLedgerCollector(nil, nil, func() time.Time { return now })
	c.last, c.at = &ledger.Report{Issued: 101, Accounts: 102, Outstanding: 103, Unassessed: 104, Held: 105,
		Losses: 106, Recovered: 107, Refundable: 108, Released: 109}, now
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "offpay_ledger_money_minor" {
			continue
		}
		for _, m := range f.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{"issued": 101, "accounts": 102, "outstanding": 103, "unassessed": 104, "held": 105,
		"losses": 106, "recovered": 107, "refundable": 108, "released": 109}
	if len(got) != len(want) {
		t.Fatalf("figures %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("figure %q = %v, want %v", k, got[k], v)
		}
	}
}
