package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchProgressPlainWhenPiped: offpay bench's progress written to a
// pipe or a file (here a buffer) is one plain line per step, with no
// carriage returns or escape codes of a bar.
func TestBenchProgressPlainWhenPiped(t *testing.T) {
	var b bytes.Buffer
	progress, finish := benchProgress(&b)
	progress("ed25519 limit", 0)
	progress("settle 1000 on SQLite", 0.1)
	progress("settle 1000 on SQLite", 0.2)
	progress("done", 1)
	finish()
	out := b.String()
	if strings.ContainsAny(out, "\r\x1b") {
		t.Fatalf("control characters in piped progress: %q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "ed25519 limit") || !strings.Contains(lines[1], " 10% settle 1000 on SQLite") {
		t.Fatalf("want one line per step, got %q", out)
	}
}
