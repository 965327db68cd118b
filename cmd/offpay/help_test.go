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
	"ledger init":           {"data", "currency"},
	"ledger serve":          {"data", "db", "listen", "webhook"},
	"ledger account create": {"data", "deposit", "merchant", "json"},
	"ledger account show":   {"data", "json"},
	"ledger deposit":        {"data", "ref"},
	"ledger withdraw":       {"data", "ref"},
	"ledger report":         {"data", "json"},
	"ledger revoke":         {"data"},
	"wallet init":           {"dir", "ledger", "account"},
	"wallet reserve":        {"dir"},
	"wallet redeem":         {"dir"},
	"wallet balance":        {"dir", "json"},
	"wallet request":        {"dir", "out"},
	"wallet pay":            {"dir", "in", "out"},
	"wallet accept":         {"dir", "in", "out"},
	"wallet confirm":        {"dir", "in"},
	"wallet receive":        {"dir", "listen", "pairing-out"},
	"wallet send":           {"dir", "pairing", "to"},
	"wallet sync":           {"dir"},
	"wallet history":        {"dir", "json"},
	"pos run":               {"dir", "listen", "amount", "max-payment", "max-unsettled", "max-offline", "issuers"},
}

// TestEveryCommandHelp runs --help and -h of every command in the command
// table: each exits 0, prints its usage and flags once on stdout, nothing
// on stderr, and lists the flags README documents for it.
func TestEveryCommandHelp(t *testing.T) {
	names := []string{"demo", "bench"}
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
