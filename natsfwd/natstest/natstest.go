// Package natstest runs a private NATS server with JetStream for tests:
// Debian's nats-server on a free loopback port, its store in the test's
// folder, stopped and started again at will (a scheme's bus going down).
// Without nats-server the test is skipped, unless OFFPAY_REQUIRE_NATS is
// set (as .ci/run does), when it fails.
package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/offpay/offpay/internal/freeport"
)

// Server is a running nats-server.
type Server struct {
	t    testing.TB
	URL  string
	port int
	dir  string
	cmd  *exec.Cmd
}

// Start starts a server for t; t's cleanup stops it.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		if os.Getenv("OFFPAY_REQUIRE_NATS") != "" {
			t.Fatal("nats-server not installed (apt-get install nats-server) and OFFPAY_REQUIRE_NATS is set")
		}
		t.Skip("nats-server not installed")
	}
	addr, err := freeport.Addr() // Restart serves at the same port again
	if err != nil {
		t.Fatal(err)
	}
	_, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)
	s := &Server{t: t, port: port, dir: t.TempDir(), URL: fmt.Sprintf("nats://127.0.0.1:%d", port)}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Restart starts the server (again), on the same port and store.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.cmd = exec.Command("nats-server", "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(s.port), "-sd", filepath.Join(s.dir, "js"))
	s.cmd.Stdout, s.cmd.Stderr = nil, nil
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("nats-server did not start")
}

// Stop stops the server, if it runs.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	s.cmd = nil
}

// PublishRaw publishes data on subject of the stream with the given
// Nats-Msg-Id, as any client of the server can (an attacker's, in tests).
func PublishRaw(t testing.TB, url, subject, msgID string, data []byte) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	if _, err := js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}
