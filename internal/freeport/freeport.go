// Package freeport hands tests a loopback address for a server they stop
// and start again at the same address.
//
// A port from 127.0.0.1:0 lies inside Linux's ephemeral range
// (32768-60999): while the server is down, on a busy machine any
// outgoing connection can take that port as its own, and the restart
// fails with "address already in use" (CI failed so). The ports handed
// out here lie below that range, where the kernel never picks one by
// itself; they are spread by process so that test binaries running side
// by side rarely try the same one, and each is checked free before it is
// handed out.
package freeport

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
)

// First and Last bound the ports handed out (pcsctest's vpcd ports start
// at 29163).
const (
	First = 20000
	Last  = 28999
)

var next atomic.Int64

// Addr returns "127.0.0.1:PORT" for a port in [First, Last] that is free
// now, or an error when none is.
func Addr() (string, error) {
	n := int64(Last - First + 1)
	start := int64(os.Getpid()) * 97
	for range n {
		p := First + int((start+next.Add(1))%n)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return ln.Addr().String(), nil
	}
	return "", fmt.Errorf("no free port in %d-%d", First, Last)
}
