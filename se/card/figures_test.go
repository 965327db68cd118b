package card_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/pcsctest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
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

type figure struct {
	mode         string
	perPay       time.Duration
	trips        float64
	cpuHost      time.Duration
	cpuCard      time.Duration
	cpuDaemon    time.Duration
	perAPDU      time.Duration
	payments     int
	cardPIDs     []int
	countTrips   func() uint64
	statusSource se.SE
}

// payments times n payments of 1 cent from a to b (request, pay, accept,
// confirm), syncing both every 40 payments off the clock.
func payments(t *testing.T, e *env, a, b *wallet.Wallet, n int, f *figure) {
	t.Helper()
	if err := a.Reserve(ctx, 20000); err != nil {
		t.Fatal(err)
	}
	var wall time.Duration
	var trips uint64
	var cpuH, cpuC, cpuD time.Duration
	for i := 0; i < n; i++ {
		if i > 0 && i%40 == 0 {
			for _, w := range []*wallet.Wallet{a, b, a} {
				if err := w.Sync(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		t0, c0, tr0 := time.Now(), selfCPU(), f.countTrips()
		k0, d0 := cardsCPU(f), procCPU(pcsctest.DaemonPid())
		transfer(t, a, b, 1)
		wall += time.Since(t0)
		cpuH += selfCPU() - c0
		cpuC += cardsCPU(f) - k0
		cpuD += procCPU(pcsctest.DaemonPid()) - d0
		trips += f.countTrips() - tr0
	}
	f.payments = n
	f.perPay = wall / time.Duration(n)
	f.trips = float64(trips) / float64(n)
	f.cpuHost, f.cpuCard, f.cpuDaemon = cpuH/time.Duration(n), cpuC/time.Duration(n), cpuD/time.Duration(n)
	const m = 200
	t0 := time.Now()
	for i := 0; i < m; i++ {
		if _, err := f.statusSource.Status(e.now.Load()); err != nil {
			t.Fatal(err)
		}
	}
	f.perAPDU = time.Since(t0) / m
}

func cardsCPU(f *figure) time.Duration {
	var d time.Duration
	for _, p := range f.cardPIDs {
		d += procCPU(p)
	}
	return d
}

// TestFigures measures a payment's time with both SEs in process (the
// virtual SE), behind the APDU layer in process, and as cards through
// pcscd and the virtual reader. It runs with OFFPAY_CARD_FIGURES=N (N
// payments per mode) and prints the README's table.
func TestFigures(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("OFFPAY_CARD_FIGURES"))
	if n <= 0 {
		t.Skip("set OFFPAY_CARD_FIGURES=N to measure")
	}
	var out []figure
	{ // the virtual SE in process
		e := newEnv(t)
		open := func(name string) *vse.VSE {
			v, err := vse.Open(e.seDir(name), setest.PIN, opts())
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		va, vb := open("alice"), open("bob")
		f := figure{mode: "virtual SE in process", countTrips: func() uint64 { return 0 }, statusSource: va}
		payments(t, e, e.wallet("alice", va), e.wallet("bob", vb), n, &f)
		out = append(out, f)
	}
	{ // the applet behind APDUs, in process
		e := newEnv(t)
		ca, _ := e.inProcess("alice")
		cb, _ := e.inProcess("bob")
		f := figure{mode: "APDUs to the applet in process", countTrips: func() uint64 { return ca.RoundTrips() + cb.RoundTrips() }, statusSource: ca}
		payments(t, e, e.wallet("alice", ca), e.wallet("bob", cb), n, &f)
		out = append(out, f)
	}
	{ // cards through pcscd and vpcd
		p := pcsctest.Daemon(t)
		e := newEnv(t)
		ka, pa, _ := e.reader(p, "alice", 0, 0)
		kb, pb, _ := e.reader(p, "bob", 1, 0)
		ca, cb := login(t, ka), login(t, kb)
		f := figure{mode: "cards through pcscd + vpcd", countTrips: func() uint64 { return ca.RoundTrips() + cb.RoundTrips() }, statusSource: ca, cardPIDs: []int{pa.Pid(), pb.Pid()}}
		payments(t, e, e.wallet("alice", ca), e.wallet("bob", cb), n, &f)
		out = append(out, f)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "| SEs | payment (wall) | ratio | APDUs | host CPU | cards' CPU | pcscd CPU | one GET STATUS |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range out {
		fmt.Fprintf(&s, "| %s | %.2f ms | %.1f× | %.0f | %.2f ms | %.2f ms | %.2f ms | %.3f ms |\n", f.mode, ms(f.perPay), float64(f.perPay)/float64(out[0].perPay), f.trips, ms(f.cpuHost), ms(f.cpuCard), ms(f.cpuDaemon), ms(f.perAPDU))
	}
	t.Logf("%d payments each:\n%s", n, s.String())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
