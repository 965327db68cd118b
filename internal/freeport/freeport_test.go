package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestAddrBelowEphemeralRangeAndFree(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		a, err := Addr()
		if err != nil {
			t.Fatal(err)
		}
		_, ps, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(ps)
		if p < First || p > Last {
			t.Fatalf("port %d outside %d-%d", p, First, Last)
		}
		if seen[a] {
			t.Fatalf("%s handed out twice", a)
		}
		seen[a] = true
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("%s is not free: %v", a, err)
		}
		ln.Close()
	}
}

// A port in use is never handed out.
func TestAddrSkipsAPortInUse(t *testing.T) {
	a, err := Addr()
	if err != nil {
		t.Fatal(err)
	}
	_, ps, _ := net.SplitHostPort(a)
	p, _ := strconv.Atoi(ps)
	// Hold the next port Addr would try.
	next.Add(-1)
	ln, err := net.Listen("tcp", a)
	if err != nil {
		t.Skipf("cannot hold %s: %v", a, err)
	}
	defer ln.Close()
	b, err := Addr()
	if err != nil {
		t.Fatal(err)
	}
	if b == a {
		t.Fatalf("handed out %s (port %d) while it is in use", b, p)
	}
}
