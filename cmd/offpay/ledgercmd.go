package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
)

func init() {
	register("ledger",
		command{"init", "create the ledger's keys, database folder and administrator token", ledgerInit},
		command{"serve", "run the ledger's HTTP API", ledgerServe},
		command{"account create", "create an account (administrator)", ledgerAccountCreate},
		command{"account show", "show an account and its statement (administrator)", ledgerAccountShow},
		command{"deposit", "credit an account from outside (administrator)", ledgerMove(true)},
		command{"withdraw", "debit an account to outside (administrator)", ledgerMove(false)},
		command{"report", "the reconciliation report (administrator)", ledgerReport},
		command{"revoke", "revoke a device (administrator)", ledgerRevoke},
	)
}

// newFlags makes a flag set that reports errors as usage errors and prints
// its help on stdout.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: offpay %s %s\n\nFlags:\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp { // the flag package has printed fs.Usage
				return nil, errHelp
			}
			return nil, usageErrorf("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp ends a command that printed its help.
var errHelp = &helpShown{}

type helpShown struct{}

func (*helpShown) Error() string { return "" }

func needData(dir string) error {
	if dir == "" {
		return usageErrorf("--data DIR is required")
	}
	return nil
}

func ledgerInit(e *env, args []string) error {
	fs := newFlags(e, "ledger init", "--data DIR [--currency EUR]")
	data := fs.String("data", "", "the ledger's data folder")
	cur := fs.String("currency", "EUR", "the ledger's currency (ISO 4217 or a registered code)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	if _, err := offpay.LookupCurrency(*cur); err != nil {
		return usageErrorf("unknown currency %q", *cur)
	}
	if _, err := initLedgerData(*data, *cur, []byte(e.getenv(passphraseEnv))); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ledger initialised in %s (currency %s)\nadministrator token: %s\nnext: offpay ledger serve --data %s\n",
		*data, *cur, filepath.Join(*data, adminTokenFile), *data)
	return nil
}

func ledgerServe(e *env, args []string) error {
	fs := newFlags(e, "ledger serve", "--data DIR [--db postgres://...] [--listen 127.0.0.1:8420] [--device-rate 2] [--client-rate 20]")
	data := fs.String("data", "", "the ledger's data folder")
	db := fs.String("db", "", "a PostgreSQL URL; default: SQLite in the data folder")
	listen := fs.String("listen", defaultListen, "address to listen on")
	webhook := fs.String("webhook", "", "bank webhook URL for settlement notifications (secret from "+webhookSecretEv+")")
	policyFile := fs.String("policy", "", "JSON file of the offline limits for new and renewed device certificates (person, merchant, validity_days); devices get renewed certificates at their next sync")
	devRate := fs.Float64("device-rate", defaultDeviceRate, fmt.Sprintf(
		"requests per second each device may send to the device endpoints (bursts of %d seconds' worth); 0: no limit", deviceBurstSeconds))
	clientRate := fs.Float64("client-rate", defaultClientRate, fmt.Sprintf(
		"requests per second each client address may send to the GET endpoints, and refused signatures or admin tokens it may send (bursts of %d seconds' worth); 0: no limit", clientBurstSeconds))
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := needData(*data); err != nil {
		return err
	}
	var policy *ledger.Policy
	if *policyFile != "" {
		var err error
		if policy, err = readPolicy(*policyFile); err != nil {
			return err
		}
	}
	devLimit, err := rateLimit(*devRate, deviceBurstSeconds)
	if err != nil {
		return usageErrorf("--device-rate: %v", err)
	}
	clientLimit, err := rateLimit(*clientRate, clientBurstSeconds)
	if err != nil {
		return usageErrorf("--client-rate: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := startLedger(ctx, hostOptions{dataDir: *data, dbURL: *db, listen: *listen,
		passphrase: []byte(e.getenv(passphraseEnv)), webhook: *webhook, deviceRate: devLimit, clientRate: clientLimit, policy: policy})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(*data, ledgerURLFile), []byte(h.url+"\n")); err != nil { // a reader never sees half a URL
		h.Close()
		return err
	}
	fmt.Fprintf(e.stdout, "ledger serving on %s (currency %s)\n", h.url, h.svc.Currency())
	select {
	case <-ctx.Done():
	case err := <-h.done:
		if err != nil {
			return err
		}
	}
	return h.Close()
}

// adminClient finds the running ledger of a data folder.
func adminClient(dir string) (*ledgerclient.Client, error) {
	if err := needData(dir); err != nil {
		return nil, err
	}
	token, err := readToken(dir)
	if err != nil {
		return nil, err
	}
	u, err := os.ReadFile(filepath.Join(dir, ledgerURLFile))
	if err != nil {
		return nil, fmt.Errorf("%w: the ledger of %s is not serving (run offpay ledger serve --data %s)", ledgerclient.ErrUnreachable, dir, dir)
	}
	return ledgerclient.New(strings.TrimSpace(string(u)), ledgerclient.Options{AdminToken: token, Timeout: 10 * time.Second, Retries: 1})
}

// sameCurrency refuses an amount written in another currency than the
// ledger's: the ledger counts minor units of its own currency only.
func sameCurrency(a offpay.Amount, dir string) error {
	if cur := ledgerCurrency(dir); cur != "" && a.Currency != cur {
		return usageErrorf("amount in %s, but this ledger counts %s", a.Currency, cur)
	}
	return nil
}

func ledgerCurrency(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "keys", "currency"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func ledgerAccountCreate(e *env, args []string) error {
	fs := newFlags(e, "ledger account create", "--data DIR NAME [--deposit AMOUNT] [--merchant]")
	data := fs.String("data", "", "the ledger's data folder")
	deposit := fs.String("deposit", "", "an opening deposit, e.g. 100.00 or 100.00 EUR")
	merchant := fs.Bool("merchant", false, "a merchant account (its receipts sweep into the account at settlement)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger account create needs one NAME")
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var amount offpay.Amount
	if *deposit != "" {
		if amount, err = offpay.ParseAmountIn(*deposit, ledgerCurrency(*data)); err != nil {
			return usageErrorf("--deposit: %v", err)
		}
		if err := sameCurrency(amount, *data); err != nil {
			return err
		}
	}
	acct, err := c.CreateAccount(ctx, pos[0], *merchant)
	if err != nil {
		return err
	}
	if amount.Minor > 0 {
		if acct, err = c.Deposit(ctx, pos[0], amount.Minor, "opening-"+pos[0]); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(e.stdout, acct)
	}
	fmt.Fprintf(e.stdout, "account %s created, balance %s\n", acct.Name, fmtMinor(acct.Balance, acct.Currency))
	return nil
}

func ledgerAccountShow(e *env, args []string) error {
	fs := newFlags(e, "ledger account show", "--data DIR NAME [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger account show needs one NAME")
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	ctx := context.Background()
	acct, err := c.Account(ctx, pos[0])
	if err != nil {
		return err
	}
	lines, err := c.Statement(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, map[string]any{"account": acct, "statement": lines})
	}
	fmt.Fprintf(e.stdout, "%s: balance %s%s\n", acct.Name, fmtMinor(acct.Balance, acct.Currency), map[bool]string{true: " (frozen)"}[acct.Frozen])
	for _, l := range lines {
		fmt.Fprintf(e.stdout, "  %4d %-10s %12s  %12s  %s\n", l.Seq, l.Kind, fmtMinor(l.Amount, acct.Currency), fmtMinor(l.Balance, acct.Currency), l.Ref)
	}
	return nil
}

func ledgerMove(deposit bool) func(e *env, args []string) error {
	name := map[bool]string{true: "deposit", false: "withdraw"}[deposit]
	return func(e *env, args []string) error {
		fs := newFlags(e, "ledger "+name, "--data DIR NAME AMOUNT [--ref REF]")
		data := fs.String("data", "", "the ledger's data folder")
		ref := fs.String("ref", "", "an idempotency reference (default: a fresh one)")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return usageErrorf("ledger %s needs NAME and AMOUNT", name)
		}
		amount, err := offpay.ParseAmountIn(pos[1], ledgerCurrency(*data))
		if err != nil {
			return usageErrorf("amount: %v", err)
		}
		if amount.Minor <= 0 {
			return usageErrorf("amount must be positive")
		}
		if err := sameCurrency(amount, *data); err != nil {
			return err
		}
		c, err := adminClient(*data)
		if err != nil {
			return err
		}
		if *ref == "" {
			*ref = fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
		}
		f := c.Withdraw
		if deposit {
			f = c.Deposit
		}
		acct, err := f(context.Background(), pos[0], amount.Minor, *ref)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: balance %s\n", acct.Name, fmtMinor(acct.Balance, acct.Currency))
		return nil
	}
}

func ledgerReport(e *env, args []string) error {
	fs := newFlags(e, "ledger report", "--data DIR [--json]")
	data := fs.String("data", "", "the ledger's data folder")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	r, err := c.Report(context.Background())
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, r)
	}
	printReport(e.stdout, r)
	return nil
}

func ledgerRevoke(e *env, args []string) error {
	fs := newFlags(e, "ledger revoke", "--data DIR DEVICE [--reason TEXT]")
	data := fs.String("data", "", "the ledger's data folder")
	reason := fs.String("reason", "revoked by the operator", "why (kept in the ledger)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("ledger revoke needs one DEVICE (hex id, as the wallet's balance shows it)")
	}
	id, err := protocol.ParseKeyID(pos[0])
	if err != nil {
		return usageErrorf("DEVICE: %v", err)
	}
	c, err := adminClient(*data)
	if err != nil {
		return err
	}
	if err := c.Revoke(context.Background(), id, *reason); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "device %s revoked; payees learn it at their next sync\n", id)
	return nil
}

func fmtMinor(minor int64, currency string) string {
	c, err := offpay.LookupCurrency(currency)
	if err != nil {
		return fmt.Sprintf("%d %s", minor, currency)
	}
	return offpay.FormatMinor(minor, c.Exponent) + " " + currency
}

func printReport(w io.Writer, r *ledger.Report) {
	fmt.Fprintf(w, "Reconciliation (%s)\n", r.Currency)
	fmt.Fprintf(w, "  issued (deposits - withdrawals)  %14s\n", fmtMinor(r.Issued, r.Currency))
	fmt.Fprintf(w, "  account balances                 %14s\n", fmtMinor(r.Accounts, r.Currency))
	fmt.Fprintf(w, "  outstanding purse value          %14s\n", fmtMinor(r.Outstanding, r.Currency))
	fmt.Fprintf(w, "  losses                           %14s\n", fmtMinor(r.Losses, r.Currency))
	fmt.Fprintf(w, "  recovered from owners            %14s\n", fmtMinor(r.Recovered, r.Currency))
	fmt.Fprintf(w, "  settled payments                 %14d\n", r.Settled)
	ok := "HOLDS"
	if !r.ConservationOK {
		ok = "BROKEN"
	}
	fmt.Fprintf(w, "  conservation: issued + losses = balances + outstanding: %s\n", ok)
	for _, d := range r.Devices {
		fmt.Fprintf(w, "  device %s  %-10s loaded %s sent %s received %s redeemed %s position %s  %s\n", d.Device[:12], d.Account,
			fmtMinor(d.Loaded, r.Currency), fmtMinor(d.Sent, r.Currency), fmtMinor(d.Received, r.Currency),
			fmtMinor(d.Redeemed, r.Currency), fmtMinor(d.Position, r.Currency), d.Status)
	}
	for _, ds := range r.DoubleSpends {
		fmt.Fprintf(w, "  double spend: device %s counter %d, proof of %d+%d signed bytes\n", ds.Device[:12], ds.Counter, len(ds.EntryA), len(ds.EntryB))
	}
	if len(r.RevokedDevices) > 0 {
		fmt.Fprintf(w, "  revoked devices: %s\n", strings.Join(r.RevokedDevices, ", "))
	}
}
