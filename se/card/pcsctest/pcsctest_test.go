package pcsctest

import (
	"fmt"
	"net"
	"testing"
)

// CI failed once because vpcd could not listen on its port (another
// socket held it) and the reader never appeared: Start moves to the next
// pair of ports instead.
func TestStartMovesOffAPortInUse(t *testing.T) {
	if err := Available(); err != nil {
		unavailable(t, "%v", err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", firstPort+1))
	if err != nil {
		t.Skipf("cannot hold the port for the test: %v", err)
	}
	defer ln.Close()
	c := Daemon(t)
	defer Stop()
	if DaemonPid() == 0 {
		t.Skip("a pcscd someone else started serves the reader")
	}
	if Readers[0].Port == firstPort {
		t.Fatalf("the reader kept port %d, which was in use", firstPort)
	}
	rs, err := c.Readers()
	if err != nil || len(rs) != len(Readers) {
		t.Fatalf("readers %v, %v", rs, err)
	}
}
