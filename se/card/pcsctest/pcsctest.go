// Package pcsctest runs the real PC/SC stack for tests: pcscd in the
// foreground with vsmartcard's virtual reader driver (vpcd), and cards as
// separate processes plugged into it. Without pcscd, the driver or
// libpcsclite a test skips; with OFFPAY_REQUIRE_PCSC=1 it fails instead.
package pcsctest

import (
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

	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/se/card/vicc"
)

// Driver is where Debian's vsmartcard-vpcd puts the vpcd driver.
const Driver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

// Readers are the two slots of the virtual reader and the ports their
// cards connect to: vpcd's defaults when a pcscd someone else started
// serves them, else the ports Start chose (read them after Start).
var Readers = readersAt(vicc.DefaultPort)

func readersAt(port int) []Reader {
	return []Reader{{"Virtual PCD 00 00", port}, {"Virtual PCD 00 01", port + 1}}
}

// The pcscd Start runs listens below Linux's ephemeral port range
// (32768-60999): vpcd's default 35963 lies inside it, and on a busy
// machine any outgoing connection can hold it, so that vpcd's bind fails
// ("Address already in use") and the reader never appears. A bind that
// fails all the same (someone listens there) is retried on the next pair.
const (
	firstPort  = 29163
	portTries  = 4
	readerWait = 15 * time.Second
	addrInUse  = "Address already in use"
	triesApart = 2
)

// Reader is one slot of the virtual reader.
type Reader struct {
	Name string
	Port int
}

// Addr is where a card connects to plug into this slot.
func (r Reader) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

var (
	mu      sync.Mutex
	daemon  *exec.Cmd
	lock    *os.File // held while this process uses the daemon: one test binary at a time
	logPath string
)

// LockFile serialises the test binaries that use the virtual reader (go
// test runs packages side by side; pcscd's socket and vpcd's ports are
// fixed).
var LockFile = filepath.Join(os.TempDir(), "offpay-pcsctest.lock")

// Available reports why the PC/SC stack cannot run here (nil: it can).
func Available() error {
	if _, err := exec.LookPath("pcscd"); err != nil {
		return errors.New("no pcscd (Debian: pcscd)")
	}
	if _, err := os.Stat(Driver); err != nil {
		return fmt.Errorf("no vpcd driver (Debian: vsmartcard-vpcd): %v", err)
	}
	if _, err := pcsc.New(); errors.Is(err, pcsc.ErrUnavailable) {
		return fmt.Errorf("%v (Debian: libpcsclite1)", err)
	}
	return nil
}

// Required reports whether OFFPAY_REQUIRE_PCSC asks for failures instead
// of skips.
func Required() bool { return os.Getenv("OFFPAY_REQUIRE_PCSC") != "" }

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("OFFPAY_REQUIRE_PCSC is set but: %s", msg)
	}
	t.Skip(msg)
}

// Daemon makes sure pcscd runs with the virtual reader (Start) and
// returns a context on it. t's cleanup releases the context; Stop, from
// TestMain, ends the daemon.
func Daemon(t testing.TB) *pcsc.Context {
	t.Helper()
	if err := Available(); err != nil {
		unavailable(t, "%v", err)
	}
	if err := Start(); err != nil {
		t.Fatalf("pcscd: %v (log %s)", err, logPath)
	}
	c, err := pcsc.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Start takes the lock that makes this test binary the virtual reader's
// only user (waiting for another to Stop) and runs pcscd in the
// foreground, unless this process did already or a pcscd that serves the
// virtual reader is running (one .ci/run or a person started).
func Start() error {
	mu.Lock()
	defer mu.Unlock()
	if lock != nil {
		return nil
	}
	f, err := os.OpenFile(LockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return err
	}
	lock = f
	if hasReaders() {
		Readers = readersAt(vicc.DefaultPort)
		return nil
	}
	for i := 0; i < portTries; i++ {
		if err = start(firstPort + i*triesApart); err == nil {
			return nil
		}
		stopDaemon()
		if !strings.Contains(Log(), addrInUse) {
			break
		}
	}
	stop()
	return err
}

func start(port int) error {
	dir, err := os.MkdirTemp("", "offpay-pcscd-")
	if err != nil {
		return err
	}
	Readers = readersAt(port)
	conf := fmt.Sprintf("FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n", port, Driver, port)
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "vpcd"), []byte(conf), 0o644); err != nil {
		return err
	}
	logPath = filepath.Join(dir, "pcscd.log")
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	daemon = exec.Command("pcscd", "--foreground", "--config", filepath.Join(dir, "conf"))
	daemon.Stdout, daemon.Stderr = log, log
	if err := daemon.Start(); err != nil {
		return err
	}
	end := time.Now().Add(readerWait)
	for !hasReaders() {
		if strings.Contains(Log(), addrInUse) {
			return fmt.Errorf("vpcd could not listen on ports %d-%d", port, port+1)
		}
		if time.Now().After(end) {
			return fmt.Errorf("the virtual reader did not appear within %v", readerWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func hasReaders() bool {
	c, err := pcsc.New()
	if err != nil {
		return false
	}
	defer c.Close()
	rs, err := c.Readers()
	if err != nil {
		return false
	}
	n := 0
	for _, r := range rs {
		for _, want := range Readers {
			if r == want.Name {
				n++
			}
		}
	}
	return n == len(Readers)
}

// Stop ends the pcscd this package started, if any, and lets other test
// binaries have the reader (from TestMain).
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	stop()
}

func stop() {
	stopDaemon()
	if lock != nil {
		lock.Close()
		lock = nil
	}
}

func stopDaemon() {
	if daemon != nil && daemon.Process != nil {
		daemon.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { daemon.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			daemon.Process.Kill()
			<-done
		}
	}
	daemon = nil
}

// Log is pcscd's output so far, for a failing test.
func Log() string {
	if logPath == "" {
		return ""
	}
	b, _ := os.ReadFile(logPath)
	s := string(b)
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return strings.TrimSpace(s)
}

// Connect waits (up to 10 s) for a card in reader and connects to it.
func Connect(t testing.TB, c *pcsc.Context, reader string) *pcsc.Card {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	for {
		k, err := c.Connect(reader)
		if err == nil {
			t.Cleanup(func() { k.Close() })
			return k
		}
		if time.Now().After(end) {
			t.Fatalf("no card in %s: %v\n%s", reader, err, Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DaemonPid is the id of the pcscd this package started (0: it found one
// running).
func DaemonPid() int {
	if daemon == nil || daemon.Process == nil {
		return 0
	}
	return daemon.Process.Pid
}
