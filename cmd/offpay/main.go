// Command offpay is the ledger server, the wallet, the POS terminal and the
// demo of offpay in one binary. This package only wires the others together.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
)

// env is what a command sees of the world; tests give their own.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

var groups = map[string][]command{}

func register(group string, cmds ...command) { groups[group] = append(groups[group], cmds...) }

func main() {
	privateUmask()
	os.Exit(run(&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

const topUsage = `offpay: offline-capable digital payments

Usage:
  offpay demo                      the whole story in one command
  offpay ledger <command> [flags]  run and administer a ledger
  offpay wallet <command> [flags]  a wallet: reserve, pay and receive offline, sync
  offpay pos run [flags]           a merchant terminal
  offpay card emulate [flags]      a virtual smart card in a PC/SC virtual reader
  offpay bench [flags]             measure throughput and latency
  offpay sim [flags]               the adversarial simulator: seeds, invariants, loss curves
  offpay --version                 the version of this binary

Run "offpay <group> --help" for the commands of a group, and
"offpay <group> <command> --help" for the flags of one.
`

// run executes one command line and returns the process exit code.
func run(e *env, args []string) int {
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		fmt.Fprint(e.stdout, topUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		fmt.Fprintln(e.stdout, version())
		return 0
	}
	err := dispatch(e, args)
	return report(e, err)
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

// topCommands are the first words offpay knows.
func topCommands() []string {
	names := []string{"demo", "bench", "sim", "help", "version"}
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	return names
}

func dispatch(e *env, args []string) error {
	switch args[0] {
	case "demo":
		return runDemo(e, args[1:])
	case "bench":
		return runBench(e, args[1:])
	case "sim":
		return runSim(e, args[1:])
	}
	if args[0] == "wallet" { // --purse NAME (walletpurse.go)
		var done bool
		var err error
		if args, done, err = purseArgs(e, args); done || err != nil {
			return err
		}
	}
	cmds, ok := groups[args[0]]
	if !ok {
		return usageErrorf("unknown command %q%s (run offpay --help)", args[0], didYouMean(args[0], topCommands()))
	}
	if len(args) < 2 || isHelp(args[1]) {
		fmt.Fprint(e.stdout, groupUsage(args[0], "", cmds))
		if len(args) < 2 {
			return usageErrorf("offpay %s needs a command", args[0])
		}
		return nil
	}
	// Two-word commands ("ledger account create") are registered with a space.
	for _, n := range []int{3, 2} {
		if len(args) < n {
			continue
		}
		name := strings.Join(args[1:n], " ")
		for _, c := range cmds {
			if c.name == name {
				return c.run(e, args[n:])
			}
		}
	}
	// The first word of two-word commands ("ledger account"): its help.
	if sub := subcommands(args[1], cmds); len(sub) > 0 {
		if len(args) == 2 || isHelp(args[2]) {
			fmt.Fprint(e.stdout, groupUsage(args[0], args[1], sub))
		}
		if len(args) > 2 && isHelp(args[2]) {
			return nil
		}
		if len(args) > 2 {
			return usageErrorf("unknown command \"offpay %s %s %s\"%s (run offpay %s %s --help)", args[0], args[1], args[2],
				didYouMean(args[1]+" "+args[2], names(sub)), args[0], args[1])
		}
		return usageErrorf("offpay %s %s needs a command", args[0], args[1])
	}
	tried := args[1]
	if len(args) > 2 && !strings.HasPrefix(args[2], "-") {
		tried += " " + args[2]
	}
	return usageErrorf("unknown command \"offpay %s %s\"%s (run offpay %s --help)", args[0], args[1], didYouMean(tried, names(cmds)), args[0])
}

// subcommands are the commands of cmds whose first word is word, when
// that word is not a command by itself.
func subcommands(word string, cmds []command) []command {
	var out []command
	for _, c := range cmds {
		if strings.HasPrefix(c.name, word+" ") {
			out = append(out, c)
		}
	}
	return out
}

func names(cmds []command) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.name
	}
	return out
}

// didYouMean suggests the known names closest to what was typed (within
// a third of its length in edits, at least 2), or the commands it is the
// first word of, as ": did you mean ...?".
func didYouMean(typed string, known []string) string {
	best, bestD := []string(nil), 0
	for _, k := range known {
		d := editDistance(typed, k)
		if first, _, ok := strings.Cut(k, " "); ok && !strings.Contains(typed, " ") {
			d = min(d, editDistance(typed, first))
		}
		if d > max(2, len(typed)/3) {
			continue
		}
		switch {
		case best == nil || d < bestD:
			best, bestD = []string{k}, d
		case d == bestD:
			best = append(best, k)
		}
	}
	if best == nil {
		return ""
	}
	sort.Strings(best)
	return ": did you mean \"" + strings.Join(best, "\" or \"") + "\"?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// groupUsage lists the commands of a group (of its commands starting with
// sub, if set).
func groupUsage(group, sub string, cmds []command) string {
	var b strings.Builder
	if sub != "" {
		fmt.Fprintf(&b, "Usage: offpay %s %s <command> [flags]\n\nCommands:\n", group, sub)
	} else {
		fmt.Fprintf(&b, "Usage: offpay %s <command> [flags]\n\nCommands:\n", group)
	}
	sorted := append([]command{}, cmds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(&b, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "\nRun \"offpay %s <command> --help\" for the flags of one.\n", group)
	return b.String()
}

// version says which build this is: the module's version, the commit
// and its time when built from a checkout, and the Go release.
func version() string {
	v, rev, at, dirty := "(devel)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := "offpay " + v
	if rev != "" {
		out += " commit " + rev[:min(12, len(rev))]
		if dirty {
			out += "+changes"
		}
		if at != "" {
			out += " (" + at + ")"
		}
	}
	return out + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
