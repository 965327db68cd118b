package pcsctest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/card/pcsc"
	"github.com/offpay/offpay/se/card/vicc"
	"github.com/offpay/offpay/se/vse"
)

// The environment of a card process (the test binary run again).
const (
	envDir   = "OFFPAY_PCSCTEST_CARD_DIR"
	envAddr  = "OFFPAY_PCSCTEST_CARD_ADDR"
	envDieAt = "OFFPAY_PCSCTEST_CARD_DIE_AFTER" // an INS: the card leaves the reader after executing it, before answering
)

// CardMain runs this process as a card if the test binary was started as
// one (StartCard), and then exits; otherwise it returns. Call it first in
// TestMain. opts are the options of the card's virtual SE.
func CardMain(opts *vse.Options) {
	dir := os.Getenv(envDir)
	if dir == "" {
		return
	}
	a := applet.New(dir, opts)
	if s := os.Getenv(envDieAt); s != "" {
		ins, err := strconv.ParseUint(s, 0, 8)
		if err != nil {
			fmt.Fprintln(os.Stderr, "card:", err)
			os.Exit(2)
		}
		a.AfterExecute = func(got byte) {
			if got == byte(ins) {
				os.Exit(3) // pulled out: the SE's write is done, the answer never leaves
			}
		}
	}
	conn, err := vicc.Dial(os.Getenv(envAddr), 15*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "card:", err)
		os.Exit(2)
	}
	if err := vicc.Serve(conn, a); err != nil {
		fmt.Fprintln(os.Stderr, "card:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Card is a card process in a reader slot.
type Card struct {
	cmd    *exec.Cmd
	done   chan struct{}
	reader string
}

// StartCard starts a card process for the virtual SE in dir and plugs it
// into r. dieAfter, if not 0, is an INS after whose execution the card
// leaves the reader without answering. t's cleanup takes it out.
func StartCard(t testing.TB, dir string, r Reader, dieAfter byte) *Card {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envDir+"="+dir, envAddr+"="+r.Addr())
	if dieAfter != 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=0x%02X", envDieAt, dieAfter))
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &Card{cmd: cmd, done: make(chan struct{}), reader: r.Name}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(c.Remove)
	return c
}

// Remove takes the card out of the reader: its process ends, and Remove
// returns once pcscd has seen the slot empty, so that the next card put
// there is not mistaken for this one.
func (c *Card) Remove() {
	select {
	case <-c.done:
	default:
		c.cmd.Process.Kill()
		<-c.done
	}
	ctx, err := pcsc.New()
	if err != nil {
		return
	}
	defer ctx.Close()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		k, err := ctx.Connect(c.reader)
		if err != nil {
			return
		}
		k.Close()
	}
}

// Exited waits up to d for the card process to end by itself and reports
// whether it did.
func (c *Card) Exited(d time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Pid is the card process's id.
func (c *Card) Pid() int { return c.cmd.Process.Pid }
