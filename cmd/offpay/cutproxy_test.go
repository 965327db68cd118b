package main

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"

	"github.com/rogpeppe/go-internal/testscript"
)

// cutProxy is the script command "cutproxy TARGETFILE ADDRFILE": a TCP
// proxy to the address in TARGETFILE, listening on loopback (its address
// written to ADDRFILE), whose first connection drops as soon as the
// target sends its second link frame: the payee's answer to the payment,
// after the handshake. Later connections pass through.
func cutProxy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cutproxy TARGETFILE ADDRFILE")
	}
	target := strings.TrimSpace(ts.ReadFile(args[0]))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(ln.Addr().String()+"\n"), 0o644))
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go proxyConn(c, target, conns.Add(1) == 1)
		}
	}()
}

func proxyConn(c net.Conn, target string, cut bool) {
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		_, _ = io.Copy(up, c)
		up.Close()
	}()
	if !cut {
		_, _ = io.Copy(c, up)
		return
	}
	// Forward the target's first frame (the handshake answer), then drop.
	var hdr [2]byte
	if _, err := io.ReadFull(up, hdr[:]); err != nil {
		return
	}
	frame := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(up, frame); err != nil {
		return
	}
	if _, err := c.Write(append(hdr[:], frame...)); err != nil {
		return
	}
	_, _ = io.ReadFull(up, hdr[:]) // the answer to the payment starts: cut
}
