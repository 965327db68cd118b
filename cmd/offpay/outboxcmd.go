package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/offpay/offpay/bank"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
)

// The administrator's view of the bank notifications (ledger/outbox.go):
// list them, deliver some again, export a time range for reconciliation.

// outboxFlags are the selection flags the outbox commands share.
type outboxFlags struct {
	data, state, account, kind, key, from, to *string
}

func addOutboxFlags(fs *flag.FlagSet) outboxFlags {
	return outboxFlags{
		data:    fs.String("data", "", "the ledger's data folder"),
		state:   fs.String("state", "", "pending, delivered or dead (given up)"),
		account: fs.String("account", "", "one account's notifications"),
		kind:    fs.String("kind", "", "one kind: payment_settled, payment_expired, account_changed, account_frozen, device_revoked, double_spend"),
		key:     fs.String("key", "", "one notification, by its idempotency key (the body's id)"),
		from:    fs.String("from", "", "written at or after: RFC 3339 (2026-01-02T15:04:05Z) or a UTC date (2026-01-02)"),
		to:      fs.String("to", "", "written before: RFC 3339 or a UTC date"),
	}
}

func (f outboxFlags) query() (ledger.OutboxQuery, error) {
	q := ledger.OutboxQuery{State: *f.state, Account: *f.account, Kind: *f.kind, Key: *f.key}
	var err error
	if q.From, err = parseWhen(*f.from); err != nil {
		return q, usageErrorf("--from: %v", err)
	}
	if q.To, err = parseWhen(*f.to); err != nil {
		return q, usageErrorf("--to: %v", err)
	}
	return q, nil
}

// parseWhen reads an RFC 3339 time or a date (midnight UTC); "" is zero.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a date (YYYY-MM-DD)", s)
	}
	return t, nil
}

// eachNotification calls fn for every notification matching q, page by
// page, up to max (0: all).
func eachNotification(ctx context.Context, c *ledgerclient.Client, q ledger.OutboxQuery, max int, fn func(*ledger.Notification) error) error {
	n := 0
	for {
		q.Limit = 1000
		if max > 0 {
			q.Limit = min(1000, max-n)
		}
		p, err := c.Outbox(ctx, q)
		if err != nil {
			return err
		}
		for i := range p.Notifications {
			if err := fn(&p.Notifications[i]); err != nil {
				return err
			}
			n++
		}
		if p.Next == "" || max > 0 && n >= max {
			return nil
		}
		q.After = p.Next
	}
}

func ledgerOutboxList(e *env, args []string) error {
	fs := newFlags(e, "ledger outbox list", "--data DIR [--state pending|delivered|dead] [--account NAME] [--kind KIND] [--key KEY] [--from TIME] [--to TIME] [--limit 100] [--json]")
	f := addOutboxFlags(fs)
	limit := fs.Int("limit", 100, "at most this many, oldest first (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErrorf("ledger outbox list takes no arguments")
	}
	if *limit < 0 {
		return usageErrorf("--limit must be 0 or more")
	}
	q, err := f.query()
	if err != nil {
		return err
	}
	c, err := adminClient(*f.data)
	if err != nil {
		return err
	}
	var all []ledger.Notification
	if err := eachNotification(context.Background(), c, q, *limit, func(n *ledger.Notification) error {
		all = append(all, *n)
		return nil
	}); err != nil {
		return err
	}
	if *asJSON {
		if all == nil {
			all = []ledger.Notification{}
		}
		return printJSON(e.stdout, all)
	}
	for _, n := range all {
		fmt.Fprintf(e.stdout, "%s  %s#%d  %-16s %-9s attempts %d  %s\n", n.CreatedAt.Format(time.RFC3339), n.Stream, n.Seq, n.Kind, n.State,
			n.Attempts, n.IdempotencyKey)
		if n.LastError != "" && n.State != ledger.OutboxDelivered {
			fmt.Fprintf(e.stdout, "    last error: %s\n", n.LastError)
		}
	}
	fmt.Fprintf(e.stdout, "%d notifications\n", len(all))
	return nil
}

func ledgerOutboxResend(e *env, args []string) error {
	fs := newFlags(e, "ledger outbox resend", "--data DIR (--key KEY | --from TIME --to TIME) [--state dead] [--account NAME] [--kind KIND]")
	f := addOutboxFlags(fs)
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErrorf("ledger outbox resend takes no arguments")
	}
	q, err := f.query()
	if err != nil {
		return err
	}
	if q.Key == "" && (q.From.IsZero() || q.To.IsZero()) {
		return usageErrorf("ledger outbox resend needs --key, or --from and --to")
	}
	c, err := adminClient(*f.data)
	if err != nil {
		return err
	}
	n, err := c.Resend(context.Background(), q)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d notifications to deliver again (same keys and bodies)\n", n)
	return nil
}

// exportColumns are the CSV columns of ledger outbox export.
var exportColumns = []string{"id", "kind", "account", "event_seq", "created_at", "state", "attempts", "delivered_at", "data"}

func ledgerOutboxExport(e *env, args []string) error {
	fs := newFlags(e, "ledger outbox export", "--data DIR --from TIME --to TIME [--format jsonl|csv] [--out FILE] [--account NAME] [--kind KIND] [--state S]")
	f := addOutboxFlags(fs)
	format := fs.String("format", "jsonl", "jsonl: each line a webhook body, byte for byte; csv: "+fmt.Sprint(exportColumns))
	out := fs.String("out", "", "write to FILE (default: standard output)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErrorf("ledger outbox export takes no arguments")
	}
	q, err := f.query()
	if err != nil {
		return err
	}
	if q.From.IsZero() || q.To.IsZero() {
		return usageErrorf("ledger outbox export needs --from and --to")
	}
	if *format != "jsonl" && *format != "csv" {
		return usageErrorf("--format must be jsonl or csv")
	}
	c, err := adminClient(*f.data)
	if err != nil {
		return err
	}
	var w io.Writer = e.stdout
	var file *os.File
	if *out != "" {
		if file, err = os.Create(*out); err != nil {
			return err
		}
		w = file
	}
	n, err := exportOutbox(context.Background(), c, q, *format, w)
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(*out)
		}
	}
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(e.stdout, "%d notifications written to %s\n", n, *out)
	}
	return nil
}

// exportOutbox writes the notifications matching q in the order written.
func exportOutbox(ctx context.Context, c *ledgerclient.Client, q ledger.OutboxQuery, format string, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if format == "csv" {
		if err := cw.Write(exportColumns); err != nil {
			return 0, err
		}
	}
	n := 0
	err := eachNotification(ctx, c, q, 0, func(no *ledger.Notification) error {
		n++
		if format == "jsonl" {
			b, err := bank.Body(no)
			if err != nil {
				return err
			}
			_, err = bw.Write(append(b, '\n'))
			return err
		}
		delivered := ""
		if no.DeliveredAt != nil {
			delivered = no.DeliveredAt.Format(time.RFC3339Nano)
		}
		return cw.Write([]string{no.IdempotencyKey, no.Kind, no.Stream, strconv.FormatInt(no.Seq, 10), no.CreatedAt.Format(time.RFC3339Nano),
			no.State, strconv.Itoa(no.Attempts), delivered, string(no.Payload)})
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}
