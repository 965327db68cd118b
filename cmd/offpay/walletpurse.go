package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// A wallet folder holds one purse per scheme it joined (README
// "Currencies"): the folder's own wallet, as before (config.json, se/,
// wallet.json), and one more complete wallet per other scheme in
// purses/NAME/, each with its own SE (device key, PIN, certificate of that
// scheme's provider, pinned root), ledger and currency. Every wallet
// command takes --purse NAME to act on one; without it, a command acts on
// the folder's own wallet, except that wallet pay picks the purse whose
// currency the request names and wallet balance lists every purse. Purses
// never mix: each SE pays only requests of its currency from payees
// certified under its root.

const pursesDir = "purses"

var purseName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

func init() {
	register("wallet",
		command{"purses", "the wallet folder's purses: one per scheme joined (wallet init --purse NAME adds one)", walletPurses},
	)
}

// purseDir is the folder of purse name in the wallet folder dir.
func purseDir(dir, name string) string { return filepath.Join(dir, pursesDir, name) }

// purseInfo is one purse of a wallet folder, read without its PIN.
type purseInfo struct {
	Name     string `json:"purse"` // "" for the folder's own wallet
	Dir      string `json:"dir"`
	Currency string `json:"currency,omitempty"` // empty until the purse is opened once after enrolment
	Ledger   string `json:"ledger"`
	Account  string `json:"account"`
}

// purses lists the wallet folder's purses: its own wallet first (if it
// has one), then purses/NAME in name order.
func purses(dir string) ([]purseInfo, error) {
	var out []purseInfo
	if c, err := loadConfig(dir); err == nil {
		out = append(out, purseInfo{Dir: dir, Currency: c.Currency, Ledger: c.Ledger, Account: c.Account})
	}
	es, err := os.ReadDir(filepath.Join(dir, pursesDir))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var names []string
	for _, e := range es {
		if e.IsDir() && purseName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		c, err := loadConfig(purseDir(dir, n))
		if err != nil {
			continue // an interrupted init: no purse yet
		}
		out = append(out, purseInfo{Name: n, Dir: purseDir(dir, n), Currency: c.Currency, Ledger: c.Ledger, Account: c.Account})
	}
	return out, nil
}

func (p purseInfo) label() string {
	if p.Name == "" {
		return "(the folder's own)"
	}
	return p.Name
}

// flagAt finds flag name in args ("--name V", "-name V", "--name=V"),
// before a "--" terminator: its index, how many arguments it takes and
// its value; i < 0 when absent.
func flagAt(args []string, name string) (i, n int, value string, err error) {
	for i, a := range args {
		if a == "--" {
			break
		}
		t := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if t == a {
			continue
		}
		if t == name {
			if i+1 >= len(args) {
				return i, 1, "", usageErrorf("flag needs an argument: -%s", name)
			}
			return i, 2, args[i+1], nil
		}
		if v, ok := strings.CutPrefix(t, name+"="); ok {
			return i, 1, v, nil
		}
	}
	return -1, 0, "", nil
}

// withFlag returns args with flag name set to value (replaced where it
// was, or added first).
func withFlag(args []string, name, value string) []string {
	i, n, _, _ := flagAt(args, name)
	out := append([]string(nil), args...)
	if i < 0 {
		return append([]string{"--" + name, value}, out...)
	}
	return append(append(out[:i:i], "--"+name, value), args[i+n:]...)
}

// purseArgs points an offpay wallet command (args from "wallet") at a
// purse: with --purse NAME, DIR/purses/NAME; without it, wallet pay and
// wallet accept at the purse of the request's or payment's currency. wallet balance without --purse on a
// folder with purses lists them all (done).
func purseArgs(e *env, args []string) (out []string, done bool, err error) {
	if len(args) < 2 || isHelp(args[1]) || len(args) > 2 && isHelp(args[2]) {
		return args, false, nil
	}
	cmd := args[1]
	i, n, name, err := flagAt(args, "purse")
	if err != nil {
		return nil, false, err
	}
	_, _, dir, err := flagAt(args, "dir")
	if err != nil {
		return nil, false, err
	}
	if i >= 0 {
		if cmd == "purses" {
			return nil, false, usageErrorf("wallet purses lists every purse: it takes no --purse")
		}
		if !purseName.MatchString(name) {
			return nil, false, usageErrorf("--purse %q: a purse's name is 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit (the scheme's name, say eur or brixton)", name)
		}
		if dir == "" {
			return nil, false, usageErrorf("--purse needs --dir: the wallet folder that holds the purse")
		}
		rest := append(append([]string(nil), args[:i]...), args[i+n:]...)
		pd := purseDir(dir, name)
		if cmd != "init" {
			if _, err := loadConfig(pd); err != nil {
				return nil, false, usageErrorf("no purse %s in %s (offpay wallet init --dir %s --purse %s ... adds it)", name, dir, dir, name)
			}
		}
		return withFlag(rest, "dir", pd), false, nil
	}
	if dir == "" || cmd == "init" || cmd == "purses" {
		return args, false, nil
	}
	ps, err := purses(dir)
	if err == nil && len(ps) > 0 && ps[0].Name != "" {
		if cmd == "pay" || cmd == "accept" || cmd == "paid" {
			// only purses: the message's currency may choose one
			if p, err := purseFor(e, args, ps); err != nil || p != nil {
				if err != nil {
					return nil, false, err
				}
				return withFlag(args, "dir", p.Dir), false, nil
			}
		}
		if cmd != "balance" {
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
			}
			return nil, false, usageErrorf("%s holds purses (%s) but no wallet of its own: choose one with --purse", dir, strings.Join(names, ", "))
		}
	}
	if cmd != "balance" && cmd != "pay" && cmd != "accept" && cmd != "paid" {
		return args, false, nil
	}
	if err != nil || len(ps) < 2 && (len(ps) == 0 || ps[0].Name == "") {
		return args, false, err // one wallet, as before: nothing to choose
	}
	if cmd == "balance" {
		return nil, true, balanceAll(e, args[2:], ps)
	}
	p, err := purseFor(e, args, ps)
	if err != nil || p == nil {
		return args, false, err
	}
	return withFlag(args, "dir", p.Dir), false, nil
}

// purseFor picks the purse of the currency the request of wallet pay
// (offline or --online) or wallet paid, or the payment of wallet accept,
// names (nil: the folder's own wallet, whose SE refuses one in another
// currency anyway). A message read from stdin is left to the folder's own
// wallet, or --purse.
func purseFor(e *env, args []string, ps []purseInfo) (*purseInfo, error) {
	_, _, in, err := flagAt(args, "in")
	if err == nil && in == "" {
		_, _, in, err = flagAt(args, "request") // wallet pay's other name for --in; wallet paid's
	}
	if err != nil || in == "" || in == "-" {
		return nil, err
	}
	raw, err := readMessage(e, in)
	if err != nil {
		return nil, err
	}
	var r struct{ Currency string }
	var req protocol.PaymentRequest
	var b protocol.PaymentBundle
	switch {
	case (args[1] == "pay" || args[1] == "paid") && protocol.OpenAs(raw, &req) == nil:
		r.Currency = req.Currency
	case args[1] == "accept" && protocol.OpenAs(raw, &b) == nil:
		r.Currency = b.Payment.Currency
	default:
		return nil, nil // the command says what is wrong with it
	}
	var match []purseInfo
	var have []string
	for _, p := range ps {
		if p.Currency == r.Currency {
			match = append(match, p)
		}
		have = append(have, fmt.Sprintf("%s %s", p.label(), p.Currency))
	}
	switch len(match) {
	case 1:
		if match[0].Name != "" {
			verb := map[string]string{"pay": "paying from", "accept": "accepting into", "paid": "looking up for"}[args[1]]
			fmt.Fprintf(e.stderr, "%s purse %s (%s)\n", verb, match[0].Name, r.Currency)
		}
		return &match[0], nil
	case 0:
		if ps[0].Name == "" && ps[0].Currency == "" {
			return nil, nil // not known yet: the SE decides
		}
		folder := ps[0].Dir
		if ps[0].Name != "" {
			folder = filepath.Dir(filepath.Dir(folder)) // DIR/purses/NAME
		}
		return nil, se.Errorf(se.CodeCurrency, "the %s is in %s and no purse of %s holds %s (purses: %s)%s",
			map[string]string{"pay": "request", "paid": "request", "accept": "payment"}[args[1]], r.Currency, folder, r.Currency, strings.Join(have, ", "),
			map[bool]string{true: ": nothing paid"}[args[1] != "paid"])
	}
	return nil, usageErrorf("purses %s all hold %s: choose one with --purse", strings.Join(have, ", "), r.Currency)
}

// balanceAll runs wallet balance on every purse: a heading and each
// balance, or with --json an array of each purse's balance object with
// its "purse" name ("" for the folder's own).
func balanceAll(e *env, args []string, ps []purseInfo) error {
	jsonOn := false
	for _, a := range args {
		jsonOn = jsonOn || a == "--json" || a == "-json" || a == "--json=true" || a == "-json=true"
	}
	var out []map[string]any
	for k, p := range ps {
		sub := withFlag(args, "dir", p.Dir)
		if !jsonOn {
			if k > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "purse %s, %s, at %s\n", p.label(), p.Currency, p.Ledger)
			if err := walletBalance(e, sub); err != nil {
				return fmt.Errorf("purse %s: %w", p.label(), err)
			}
			continue
		}
		var buf bytes.Buffer
		pe := *e
		pe.stdout = &buf
		if err := walletBalance(&pe, sub); err != nil {
			return fmt.Errorf("purse %s: %w", p.label(), err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			return err
		}
		m["purse"] = p.Name
		out = append(out, m)
	}
	if jsonOn {
		return printJSON(e.stdout, out)
	}
	return nil
}

func walletPurses(e *env, args []string) error {
	fs := newFlags(e, "wallet purses", "--dir DIR [--json]")
	dir := fs.String("dir", "", "the wallet's folder")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("wallet purses", pos); err != nil {
		return err
	}
	if *dir == "" {
		return usageErrorf("--dir DIR is required")
	}
	ps, err := purses(*dir)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return usageErrorf("no wallet in %s (run offpay wallet init --dir %s ...)", *dir, *dir)
	}
	if *asJSON {
		return printJSON(e.stdout, ps)
	}
	for _, p := range ps {
		cur := p.Currency
		if cur == "" {
			cur = "?"
		}
		fmt.Fprintf(e.stdout, "%-20s %-8s account %s at %s\n", p.label(), cur, p.Account, p.Ledger)
	}
	return nil
}

// rememberCurrency writes the purse's currency into its config.json if it
// is not there yet (a wallet made before purses): best effort, the config
// is rewritten atomically.
func rememberCurrency(dir string, cfg *walletConfig, c *protocol.Certificate) {
	if c == nil || cfg.Currency == c.Currency {
		return
	}
	cfg.Currency = c.Currency
	if b, err := json.MarshalIndent(cfg, "", "  "); err == nil {
		_ = writeFileAtomic(filepath.Join(dir, walletConfigFile), b)
	}
}
