package nfc_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/offpay/offpay/se/card"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/transport/nfc"
	"github.com/offpay/offpay/wallet"
)

// procCPU is the CPU time (user + system) of process pid so far, from
// /proc (0 where there is none).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
}

func selfCPU() time.Duration {
	var r syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &r) != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// direct hands APDUs to an applet in this process: the same exchange
// without a reader.
type direct struct{ a *applet.Applet }

func (d direct) Transmit(cmd []byte) ([]byte, error) { return d.a.Process(cmd), nil }

type tapFigure struct {
	mode                     string
	wall, tapOnly, cpu, card time.Duration
	apdus, sent, recv        float64
}

// TestFigures times N taps of one cent (OFFPAY_NFC_FIGURES=N): each a
// fresh connection to the card, SELECT and VERIFY (the PIN typed at the
// terminal), then the tap; through pcscd and vpcd, and, in the same run,
// over the APDU layer in process (no reader) as the baseline. The shop
// and the cards' wallets sync every 40 taps, off the clock.
func TestFigures(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("OFFPAY_NFC_FIGURES"))
	if n <= 0 {
		t.Skip("set OFFPAY_NFC_FIGURES=N to measure")
	}
	e := newEnv(t, 0)
	// The baseline card: its applet in this process, enrolled and loaded
	// by a wallet of its own.
	dir := filepath.Join(e.root, "card-in-process")
	if _, err := vse.Create(dir, setest.PIN, opts()); err != nil {
		t.Fatal(err)
	}
	a := applet.New(dir, opts())
	bc, err := card.Open(direct{a}, setest.PIN)
	if err != nil {
		t.Fatal(err)
	}
	bw := e.open("bob", false, bc)
	if err := bw.Reserve(ctx, 5000); err != nil {
		t.Fatal(err)
	}
	run := func(mode string, connect func() (*card.Card, *nfc.Counter, func()), pid int) tapFigure {
		f := tapFigure{mode: mode}
		var apdus, sent, recv uint64
		for i := 0; i < n; i++ {
			if i > 0 && i%40 == 0 {
				for _, w := range []*wallet.Wallet{e.shop, e.payer, bw} {
					if err := w.Sync(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			t0, c0, k0 := time.Now(), selfCPU(), procCPU(pid)+procCPU(pcsctest.DaemonPid())
			c, cnt, done := connect()
			t1 := time.Now()
			if _, err := e.term.Tap(c, 1); err != nil {
				t.Fatal(err)
			}
			done()
			f.tapOnly += time.Since(t1)
			f.wall += time.Since(t0)
			f.cpu += selfCPU() - c0
			f.card += procCPU(pid) + procCPU(pcsctest.DaemonPid()) - k0
			apdus, sent, recv = apdus+cnt.APDUs.Load(), sent+cnt.Sent.Load(), recv+cnt.Received.Load()
		}
		d := time.Duration(n)
		f.wall, f.tapOnly, f.cpu, f.card = f.wall/d, f.tapOnly/d, f.cpu/d, f.card/d
		f.apdus, f.sent, f.recv = float64(apdus)/float64(n), float64(sent)/float64(n), float64(recv)/float64(n)
		return f
	}
	base := run("APDUs to the applet in process", func() (*card.Card, *nfc.Counter, func()) {
		cnt := &nfc.Counter{T: direct{a}}
		c, err := card.Open(cnt, setest.PIN)
		if err != nil {
			t.Fatal(err)
		}
		return c, cnt, func() {}
	}, 0)
	pc := run("card through pcscd + vpcd", func() (*card.Card, *nfc.Counter, func()) {
		k, err := e.p.Connect(pcsctest.Readers[0].Name)
		if err != nil {
			t.Fatal(err)
		}
		cnt := &nfc.Counter{T: k}
		return e.loginVia(cnt), cnt, func() { k.Close() }
	}, e.proc.Pid())
	var s strings.Builder
	fmt.Fprintf(&s, "| card | tap with connect + PIN (wall) | ratio | tap alone | APDUs | bytes to card | bytes from card | this process CPU | card + pcscd CPU |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, f := range []tapFigure{base, pc} {
		fmt.Fprintf(&s, "| %s | %.2f ms | %.1f | %.2f ms | %.0f | %.0f | %.0f | %.2f ms | %.2f ms |\n", f.mode, ms(f.wall), float64(f.wall)/float64(base.wall),
			ms(f.tapOnly), f.apdus, f.sent, f.recv, ms(f.cpu), ms(f.card))
	}
	t.Logf("%d taps each:\n%s", n, s.String())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
