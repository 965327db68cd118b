package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/wallet"
)

func init() {
	register("pos",
		command{"statement", "the terminal's sales, one CSV line each, its refunds and its sweeps to the account", posStatement},
	)
}

// statementHeader names the columns of offpay pos statement (README,
// "Command reference"); scripts may rely on them.
var statementHeader = []string{"time", "kind", "amount", "currency", "amount_minor", "state", "payer_account", "payer_device", "payment_id", "counter", "sale"}

// posStatement writes the merchant's per-sale statement: every payment the
// terminal accepted (kind sale), every refund it gave (kind refund, to the
// sale's payer, naming the sale in the last column; the account pays it)
// and every sweep of its takings to the account (kind sweep), oldest
// first, from its history and archive. The sales less the sweeps are what
// the terminal still holds.
func posStatement(e *env, args []string) error {
	fs := newFlags(e, "pos statement", "--dir DIR [--out FILE.csv] [--since TIME]")
	dir := fs.String("dir", "", "the terminal's wallet folder")
	out := fs.String("out", "", "write the CSV to this file (default: stdout)")
	since := fs.String("since", "", "only lines from this time on (RFC 3339, or a date: 2026-12-01)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("pos statement", pos); err != nil {
		return err
	}
	var from time.Time
	if *since != "" {
		if from, err = parseSince(*since); err != nil {
			return err
		}
	}
	if *out != "" {
		if err := writable(*out); err != nil {
			return usageErrorf("cannot write %s: %v", *out, err)
		}
	}
	w, err := openWallet(e, *dir)
	if err != nil {
		return err
	}
	st, err := w.Status()
	if err != nil {
		return err
	}
	if err := enrolled(st); err != nil {
		return err
	}
	recs, err := statementRecords(w.Wallet)
	if err != nil {
		return err
	}
	cur, _ := offpay.LookupCurrency(st.Currency)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(statementHeader)
	var sales, swept, refunded uint64
	n, nr := 0, 0
	for _, r := range recs {
		t := time.Unix(int64(r.Time), 0).UTC()
		if t.Before(from) {
			continue
		}
		kind := "sale"
		switch r.Kind {
		case wallet.KindSweep:
			kind = "sweep"
			swept += r.Amount
		case wallet.KindRefund:
			kind = "refund"
			refunded += r.Amount
			nr++
		default:
			sales += r.Amount
			n++
		}
		counter := ""
		if r.Counter > 0 {
			counter = strconv.FormatUint(r.Counter, 10)
		}
		id := r.ID
		if kind == "sweep" {
			id = ""
		}
		_ = cw.Write([]string{t.Format(time.RFC3339), kind, offpay.FormatMinor(int64(r.Amount), cur.Exponent), st.Currency,
			strconv.FormatUint(r.Amount, 10), string(r.State), r.CounterpartyAccount, r.Counterparty, id, counter, r.Sale})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if *out != "" {
		if err := writeFileAtomic(*out, buf.Bytes()); err != nil {
			return err
		}
	} else if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	refunds := ""
	if nr > 0 {
		refunds = fmt.Sprintf("%d refund(s), %s (paid by the account); ", nr, w.fmt(refunded))
	}
	say(e, "%d sale(s), %s; %s%s swept to the account %s%s\n", n, w.fmt(sales), refunds, w.fmt(swept), w.cfg.Account, map[bool]string{true: " in that time", false: ""}[*since != ""])
	return nil
}

// statementRecords are the sales (payments received and accepted),
// refunds and sweeps of the wallet's archive and history, oldest first,
// each once.
func statementRecords(w *wallet.Wallet) ([]wallet.Record, error) {
	arch, err := w.Archived()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []wallet.Record
	for _, r := range append(arch, w.History()...) {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		switch {
		case r.Kind == wallet.KindSweep, r.Kind == wallet.KindRefund:
		case r.Kind == wallet.KindReceive && r.State != wallet.Rejected:
		default:
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out, nil
}

// parseSince reads --since: RFC 3339 or a date (midnight UTC).
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageErrorf("--since %q: write a time like 2026-12-01T09:00:00Z or a date like 2026-12-01", s)
}
