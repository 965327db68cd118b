package vicc

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge at once. vpcd writes a message's
// length and its bytes in two sends; with Nagle's algorithm on its side
// and a delayed acknowledgement on ours, every APDU would wait ~40 ms or
// more for the second half. Linux clears the flag as it goes, so it is
// set before every read.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
