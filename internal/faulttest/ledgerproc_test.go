package faulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offpay/offpay/internal/freeport"
	"github.com/offpay/offpay/ledgerclient"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// offpayBinary builds cmd/offpay once per test binary run.
func offpayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "offpay-faulttest-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "offpay")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/offpay/offpay/cmd/offpay").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// ledgerProc is `offpay ledger serve` running as a child process on a
// fixed loopback port, so that it can be killed and started again at the
// same address.
type ledgerProc struct {
	t      *testing.T
	bin    string
	data   string
	db     string
	addr   string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	log    *lockedWriter
	starts int
	kills  int
	args   []string // more flags for ledger serve
	env    []string // more environment
}

func newLedger(t *testing.T, db string) *ledgerProc { return newLedgerWith(t, db, nil, nil) }

// newLedgerWith starts a ledger with more serve flags and environment.
func newLedgerWith(t *testing.T, db string, args, env []string) *ledgerProc {
	bin := offpayBinary(t)
	data := t.TempDir()
	if out, err := exec.Command(bin, "ledger", "init", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("offpay ledger init: %v\n%s", err, out)
	}
	return serveData(t, data, db, args, env)
}

// serveData starts `offpay ledger serve` on the data folder data, on a
// free loopback port below the ephemeral range (internal/freeport), so
// that it can be served again there.
func serveData(t *testing.T, data, db string, args, env []string) *ledgerProc {
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	p := &ledgerProc{t: t, bin: offpayBinary(t), data: data, db: db, addr: addr, args: args, env: env}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	return p
}

func (p *ledgerProc) url() string { return "http://" + p.addr }

func (p *ledgerProc) token() string {
	b, err := os.ReadFile(filepath.Join(p.data, "admin.token"))
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// start runs the server and waits until it answers /healthz.
func (p *ledgerProc) start() error {
	// As a supervisor (systemd's Restart=always) would: a ledger on
	// PostgreSQL that exits at start because the database is restarting is
	// started again, for up to 20 s.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := p.startOnce()
		if err == nil || p.db == "" || !errors.Is(err, errExitedAtStart) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var errExitedAtStart = errors.New("offpay ledger serve exited at start")

func (p *ledgerProc) startOnce() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	args := []string{"ledger", "serve", "--data", p.data, "--listen", p.addr}
	if p.db != "" {
		args = append(args, "--db", p.db)
	}
	cmd := exec.Command(p.bin, append(args, p.args...)...)
	if p.env != nil {
		cmd.Env = append(os.Environ(), p.env...)
	}
	if p.log == nil {
		p.log = &lockedWriter{}
	}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	p.starts++
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(cmd, p.exited)
	c, _ := ledgerclient.New(p.url(), ledgerclient.Options{Timeout: time.Second, Retries: -1})
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Health(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w (start %d): %s", errExitedAtStart, p.starts, tail(p.log.String(), 2000))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("offpay ledger serve not healthy after 20 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL: no shutdown, no flush, whatever the server was doing.
func (p *ledgerProc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.kills++
}

func (p *ledgerProc) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	}
}

// lockedWriter collects the server's output across restarts.
type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
