package main

import (
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/scheme"
)

// TestBusPerScheme: two schemes' ledgers never share a stream or a
// subject on one NATS server; the providers of one scheme agree.
func TestBusPerScheme(t *testing.T) {
	dir := t.TempDir()
	a, err := scheme.Init(filepath.Join(dir, "a"), "EUR", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := scheme.Init(filepath.Join(dir, "b"), "CHF", nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := busConfig(a.Root()), busConfig(b.Root())
	if ca.Stream == cb.Stream || ca.Prefix == cb.Prefix {
		t.Fatalf("two schemes share the bus: %+v %+v", ca, cb)
	}
	again, err := scheme.Open(filepath.Join(dir, "a"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if busConfig(again.Root()) != ca {
		t.Fatal("one scheme, two names")
	}
	// NATS: stream names of letters, digits, - and _; subject tokens
	// without spaces or wildcards.
	for _, c := range []string{ca.Stream, ca.Prefix} {
		for _, r := range c {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
				t.Fatalf("%q: %q", c, r)
			}
		}
	}
}
