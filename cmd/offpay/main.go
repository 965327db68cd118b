// Command offpay is the ledger server, the wallet, the POS terminal and the
// demo of offpay in one binary. This package only wires the others together.
package main

import (
	"fmt"
	"io"
	"os"
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
	os.Exit(run(&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

const topUsage = `offpay: offline-capable digital payments

Usage:
  offpay demo                      the whole story in one command
  offpay ledger <command> [flags]  run and administer a ledger
  offpay wallet <command> [flags]  a wallet: reserve, pay and receive offline, sync
  offpay pos run [flags]           a merchant terminal
  offpay bench [flags]             measure throughput and latency

Run "offpay <group> --help" for the commands of a group, and
"offpay <group> <command> --help" for the flags of one.
`

// run executes one command line and returns the process exit code.
func run(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, topUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	err := dispatch(e, args)
	return report(e, err)
}

func dispatch(e *env, args []string) error {
	switch args[0] {
	case "demo":
		return runDemo(e, args[1:])
	case "bench":
		return runBench(e, args[1:])
	}
	cmds, ok := groups[args[0]]
	if !ok {
		return usageErrorf("unknown command %q (run offpay --help)", args[0])
	}
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" {
		fmt.Fprint(e.stdout, groupUsage(args[0], cmds))
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
	return usageErrorf("unknown command %q %q (run offpay %s --help)", args[0], args[1], args[0])
}

func groupUsage(group string, cmds []command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: offpay %s <command> [flags]\n\nCommands:\n", group)
	sorted := append([]command{}, cmds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(&b, "  %-16s %s\n", c.name, c.summary)
	}
	return b.String()
}
