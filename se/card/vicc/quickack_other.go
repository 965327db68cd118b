//go:build !linux

package vicc

import "net"

func quickAck(net.Conn) {}
