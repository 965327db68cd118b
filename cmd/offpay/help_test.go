package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// documentedFlags are the flags README's "Command reference" shows for each
// command: its --help must list every one of them.
var documentedFlags = map[string][]string{
	"demo":                  {"dir", "seed"},
	"bench":                 {"quick", "out"},
	"sim":                   {"seed", "seeds", "short", "steps", "devices", "length", "days", "attacks", "kinds", "skip-known", "shrink", "print", "json", "postgres", "out"},
	"ledger init":           {"data", "currency", "root-key", "pkcs11", "token", "key-alg", "root-token", "pkcs11-pin-file", "pkcs11-root-pin-file"},
	"ledger issuer rotate":  {"data", "root-key", "pkcs11-pin-file", "pkcs11-root-pin-file"},
	"ledger serve":          {"data", "db", "listen", "webhook", "webhook-timeout", "webhook-concurrency", "webhook-max-backoff", "webhook-dead-after", "webhook-lease", "webhook-format", "init", "allow-async-commit", "tls-cert", "tls-key", "tls-self-signed", "insecure", "pkcs11-pin-file"},
	"ledger account create": {"data", "deposit", "merchant", "name", "json"},
	"ledger account show":   {"data", "json"},
	"ledger account list":   {"data", "json"},
	"ledger device list":    {"data", "account", "json"},
	"ledger deposit":        {"data", "ref"},
	"ledger withdraw":       {"data", "ref"},
	"ledger report":         {"data", "json"},
	"ledger revoke":         {"data"},
	"ledger outbox list":    {"data", "state", "account", "kind", "key", "from", "to", "limit", "json"},
	"ledger outbox resend":  {"data", "key", "from", "to", "state", "account", "kind"},
	"ledger outbox export":  {"data", "from", "to", "format", "out", "account", "kind", "state"},
	"ledger backup":         {"data", "db", "out"},
	"ledger backup verify":  {"data", "db"},
	"ledger restore":        {"data", "db", "from", "force"},
	"ledger code issue":     {"data", "ttl", "out", "json"},
	"ledger code list":      {"data", "json"},
	"ledger code cancel":    {"data"},
	"ledger device lost":    {"data"},
	"ledger archive":        {"data", "db", "before", "retain", "batch"},
	"wallet init":           {"dir", "ledger", "account", "code", "code-in", "ledger-ca", "insecure", "kdf-memory", "kdf-time", "card"},
	"wallet reserve":        {"dir"},
	"wallet redeem":         {"dir"},
	"wallet balance":        {"dir", "json"},
	"wallet request":        {"dir", "out", "sound-out"},
	"wallet pay":            {"dir", "in", "out", "payee", "sound-out", "online", "request", "ledger", "text"},
	"wallet paid":           {"dir", "request", "ledger"},
	"wallet accept":         {"dir", "in", "out", "sound-out"},
	"wallet confirm":        {"dir", "in"},
	"wallet receive":        {"dir", "listen", "pairing-out", "advertise", "sound-out", "sound-mode", "sound-rate"},
	"wallet send":           {"dir", "pairing", "sound-in", "to", "payee"},
	"wallet sync":           {"dir"},
	"wallet pin":            {"dir", "new-code"},
	"wallet unlock":         {"dir", "code"},
	"wallet history":        {"dir", "json"},
	"wallet refund":         {"dir", "sale", "out", "text", "list", "json"},
	"card emulate":          {"se", "new", "reader"},
	"pos statement":         {"dir", "out", "since"},
	"pos run":               {"dir", "listen", "advertise", "amount", "max-payment", "max-unsettled", "max-offline", "issuers", "handshake-timeout", "upload-retry", "refund-out", "sound-out"},
}

// TestEveryCommandHelp runs --help and -h of every command in the command
// table: each exits 0, prints its usage and flags once on stdout, nothing
// on stderr, and lists the flags README documents for it.
func TestEveryCommandHelp(t *testing.T) {
	names := []string{"demo", "bench", "sim"}
	for g, cmds := range groups {
		for _, c := range cmds {
			names = append(names, g+" "+c.name)
		}
	}
	slices.Sort(names)
	var documented []string
	for n := range documentedFlags {
		documented = append(documented, n)
	}
	slices.Sort(documented)
	if !slices.Equal(names, documented) {
		t.Errorf("commands %q, README documents %q", names, documented)
	}
	for _, name := range names {
		for _, h := range []string{"--help", "-h"} {
			var out, errOut bytes.Buffer
			e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
			code := run(e, append(strings.Fields(name), h))
			if code != 0 || errOut.Len() != 0 {
				t.Errorf("offpay %s %s: exit %d, stderr %q", name, h, code, errOut.String())
			}
			s := out.String()
			if !strings.HasPrefix(s, "Usage: offpay "+name+" ") || strings.Count(s, "Usage:") != 1 || !strings.Contains(s, "\nFlags:\n") {
				t.Errorf("offpay %s %s printed:\n%s", name, h, s)
			}
			for _, f := range documentedFlags[name] {
				if !strings.Contains(s, "  -"+f+" ") && !strings.Contains(s, "  -"+f+"\n") {
					t.Errorf("offpay %s %s does not list -%s:\n%s", name, h, f, s)
				}
			}
		}
	}
	// A group's help lists every command of the group.
	for g, cmds := range groups {
		var out bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
		if code := run(e, []string{g, "--help"}); code != 0 {
			t.Errorf("offpay %s --help: exit %d", g, code)
		}
		for _, c := range cmds {
			if !strings.Contains(out.String(), "  "+c.name+" ") {
				t.Errorf("offpay %s --help does not list %q:\n%s", g, c.name, out.String())
			}
		}
	}
}

// TestJSONHas checks the scripts' JSON field checker refuses what it must.
func TestJSONHas(t *testing.T) {
	v := map[string]any{"a": 1.0, "list": []any{map[string]any{"x": 1.0}, map[string]any{"y": 1.0}}, "empty": []any{}}
	for path, ok := range map[string]bool{
		"a": true, "b": false, "list[].x": false, "list[]": true, "empty[]": false, "empty[].x": false, "a.b": false,
	} {
		if got := jsonHas(v, strings.Split(path, ".")) == ""; got != ok {
			t.Errorf("jsonHas(%s) = %v, want %v", path, got, ok)
		}
	}
	if jsonHas([]any{map[string]any{"id": "x"}}, []string{"[]", "id"}) != "" {
		t.Error("a top-level array's elements are not checked")
	}
}
