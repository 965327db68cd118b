package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/transport/qr"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// latencies times payments between two wallets in memory and over the
// emulated BLE link, and measures the messages of one payment.
func latencies(ctx context.Context, dir string, quick bool, p *plan) (lat, sizes []Row, err error) {
	direct, overLink := 200, 60
	if quick {
		direct, overLink = 50, 15
	}
	svc, closeFn, err := newService(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	pair, err := NewPair(ctx, svc, dir, 40000)
	if err != nil {
		return nil, nil, err
	}
	var ds []time.Duration
	for i := range direct {
		d, err := pair.Direct(ctx, 1)
		if err != nil {
			return nil, nil, err
		}
		ds = append(ds, d)
		p.within(float64(i+1) / float64(direct+overLink*6))
	}
	lat = append(lat, latRows("pay_accept_confirm_in_process_vse_fsync", ds)...)
	ds = ds[:0]
	for i := range overLink {
		d, err := pair.OverLink(ctx, BLE, 1)
		if err != nil {
			return nil, nil, err
		}
		ds = append(ds, d)
		p.within(float64(direct+6*(i+1)) / float64(direct+overLink*6))
	}
	lat = append(lat, latRows("pay_accept_confirm_ble_15ms_mtu247", ds)...)
	sizes, err = messageSizes(pair)
	return lat, sizes, err
}

func latRows(metric string, ds []time.Duration) []Row {
	p50, p99 := Quantiles(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return []Row{
		{Metric: metric + "_p50", Store: "-", N: len(ds), Value: ms(p50), Unit: "ms", Ratio: math.NaN()},
		{Metric: metric + "_p99", Store: "-", N: len(ds), Value: ms(p99), Unit: "ms", Ratio: math.NaN()},
	}
}

// messageSizes makes one payment by QR, one paired for the channel and a
// refund of the first, and reports each message's envelope size and the QR version (level M) of
// its single-code text form; 0 means it needs the multi-frame form.
func messageSizes(p *Pair) ([]Row, error) {
	req, err := p.Payee.Request(1250, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	pairing, err := p.resp.Pair()
	if err != nil {
		return nil, err
	}
	paired, err := p.Payee.RequestWith(se.RequestParams{Amount: 1250,
		ChannelKey: p.static.PublicKey().Bytes(), Pairing: pairing.Secret}, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	bundle, err := p.Payer.Pay(req, 0)
	if err != nil {
		return nil, err
	}
	receipt, err := p.Payee.Accept(bundle)
	if err != nil {
		return nil, err
	}
	if err := p.Payer.Confirm(receipt); err != nil {
		return nil, err
	}
	var bun protocol.PaymentBundle
	if err := protocol.OpenAs(bundle, &bun); err != nil {
		return nil, err
	}
	// The merchant refunds part of the sale: a payment naming it, with the
	// merchant device's certificate (SPEC.md 7.5.1).
	refund, _, err := p.Payee.Refund(bun.Payment.ID(), 500)
	if err != nil {
		return nil, err
	}
	msgs := []struct {
		name string
		wire []byte
	}{
		{"payment_request", req},
		{"payment_request_with_pairing", paired},
		{"payment_bundle", bundle},
		{"refund_bundle", refund},
		{"receipt", receipt},
		{"pay_log_entry_in_sync_upload", payEntry(p, &bun)},
	}
	var rows []Row
	for _, m := range msgs {
		rows = append(rows, Row{Metric: "size_" + m.name, Store: "-", Value: float64(len(m.wire)), Unit: "bytes", Ratio: math.NaN()})
		if m.name == "pay_log_entry_in_sync_upload" {
			continue
		}
		v, err := qr.Version(qr.EncodeText(m.wire), qr.M)
		if err != nil {
			v = 0
		}
		rows = append(rows, Row{Metric: "qr_version_M_" + m.name, Store: "-", Value: float64(v), Unit: "QR version", Ratio: math.NaN()})
	}
	return rows, nil
}

// payEntry is the size a Pay entry adds to a SyncUpload, measured as the
// difference between uploads of one and of two such entries.
func payEntry(p *Pair, b *protocol.PaymentBundle) []byte {
	d := NewDevice(b.Payment.Currency)
	d.Cert = &b.Cert
	e1, _ := d.Pay(b.Payment.Payee, b.Payment.Amount)
	e2, _ := d.Pay(b.Payment.Payee, b.Payment.Amount)
	one := d.Upload([]protocol.LogEntry{e1}).Marshal()
	two := d.Upload([]protocol.LogEntry{e1, e2}).Marshal()
	return two[:len(two)-len(one)]
}

// plan turns step-by-step progress into a fraction of the whole run,
// weighting each step by its expected share of the time.
type plan struct {
	cfg   Config
	total float64
	doneW float64 // weight of finished steps
	cur   string
	curW  float64
}

func newPlan(cfg Config) *plan {
	return &plan{cfg: cfg}
}

// weight is a rough share of run time: settlement by payments, the rest
// by a fixed guess.
func (p *plan) weight(desc string) float64 {
	var n int
	if _, err := fmt.Sscanf(desc, "settle %d", &n); err == nil {
		return float64(n) / 2000
	}
	if strings.HasPrefix(desc, "recovery") {
		return p.recoveryWeight()
	}
	if _, err := fmt.Sscanf(desc, "herd, %d", &n); err == nil {
		return float64(n) / 400 // mostly enrolling and signing
	}
	return 5
}

func (p *plan) estimate() float64 {
	t := 10.0 + 5 + 5 + 5 // limits, sync, latency, load
	for _, n := range p.cfg.sqliteSizes() {
		t += float64(n) / 2000
	}
	t += float64(p.cfg.postgresSize()) / 2000 // SQLite with synchronous=NORMAL
	if p.cfg.Postgres != "" {
		t += float64(p.cfg.postgresSize()) / 2000
	}
	if !p.cfg.Quick && !p.cfg.NoRecovery {
		t += p.recoveryWeight()
	}
	if p.cfg.Herd != nil {
		for _, n := range p.cfg.herdSizes() {
			t += float64(n) / 400
		}
	}
	return t
}

// recoveryWeight: the RPO runs, and for each store signing and settling
// the RTO payments, copying and checking them.
func (p *plan) recoveryWeight() float64 {
	rc := p.cfg.recovery("")
	w := float64(len(RPOIntervals)*rc.Runs)*(rc.LoadFor.Seconds()+2) + float64(rc.N)/700
	if p.cfg.Postgres != "" {
		w += float64(rc.N) / 500
	}
	return w
}

func (p *plan) step(desc string) {
	if p.total == 0 {
		p.total = p.estimate()
	}
	p.doneW += p.curW
	p.cur, p.curW = desc, p.weight(desc)
	p.report(0)
}

func (p *plan) within(frac float64) { p.report(frac) }

func (p *plan) report(frac float64) {
	if p.cfg.Progress == nil {
		return
	}
	p.cfg.Progress(p.cur, math.Min(1, (p.doneW+frac*p.curW)/p.total))
}

func (p *plan) done() {
	if p.cfg.Progress != nil {
		p.cfg.Progress("done", 1)
	}
}
