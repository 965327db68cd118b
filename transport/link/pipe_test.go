package link

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// exchange sends n frames of size bytes from a to b and returns them as received.
func exchange(t *testing.T, a, b Conn, n, size int) [][]byte {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			f := bytes.Repeat([]byte{byte(i)}, size)
			if err := a.Send(ctx, f); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	var got [][]byte
	for range n {
		f, err := b.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		got = append(got, f)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Send: %v", err)
	}
	return got
}

func checkOrdered(t *testing.T, got [][]byte, size int) {
	t.Helper()
	for i, f := range got {
		if !bytes.Equal(f, bytes.Repeat([]byte{byte(i)}, size)) {
			t.Fatalf("frame %d wrong or out of order", i)
		}
	}
}

func TestPipeTiming(t *testing.T) {
	// 40 frames at 4 per 15 ms event take 10 events: at least 135
	// emulated ms, about 150. A sender the machine's load delays past an
	// event waits for the next, as a real radio would, so the upper bound
	// is loose (one frame per event would take 600 ms); real time, not a
	// scaled clock, keeps that delay small beside an event.
	a, b := Pipe(Config{ATTMTU: 247, TimeScale: 1})
	defer a.Close()
	got := exchange(t, a, b, 40, 244)
	checkOrdered(t, got, 244)
	if now := b.Now(); now < 135*time.Millisecond || now > 300*time.Millisecond {
		t.Fatalf("40 frames took %v emulated, want about 150ms", now)
	}
}

func TestPipeLossIsDelay(t *testing.T) {
	elapsed := func(loss float64) time.Duration {
		a, b := Pipe(Config{ATTMTU: 23, Loss: loss, TimeScale: 0.1, Rand: rand.NewPCG(7, 7)})
		defer a.Close()
		checkOrdered(t, exchange(t, a, b, 40, 20), 20)
		return b.Now()
	}
	clean, lossy := elapsed(0), elapsed(0.3)
	if lossy <= clean+15*time.Millisecond {
		t.Fatalf("30%% loss took %v, no slower than %v without loss", lossy, clean)
	}
}

func TestPipeMTU(t *testing.T) {
	for _, mtu := range []int{MinATTMTU, MaxATTMTU} {
		a, b := Pipe(Config{ATTMTU: mtu, TimeScale: 0.05})
		if a.MTU() != mtu-3 || b.MTU() != mtu-3 {
			t.Fatalf("MTU %d, want %d", a.MTU(), mtu-3)
		}
		err := a.Send(context.Background(), make([]byte, mtu-2))
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("oversize Send: %v", err)
		}
		checkOrdered(t, exchange(t, a, b, 3, mtu-3), mtu-3) // still usable
		a.Close()
	}
	for _, bad := range []int{22, 248} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Pipe with ATT MTU %d did not panic", bad)
				}
			}()
			Pipe(Config{ATTMTU: bad})
		}()
	}
}

func TestPipeDisconnect(t *testing.T) {
	a, b := Pipe(Config{TimeScale: 0.05})
	ctx := ctxT(t, 5*time.Second)
	errc := make(chan error, 1)
	go func() { _, err := b.Recv(ctx); errc <- err }()
	time.Sleep(5 * time.Millisecond)
	a.Disconnect()
	if err := <-errc; !errors.Is(err, ErrDisconnected) {
		t.Fatalf("blocked Recv after drop: %v", err)
	}
	if err := a.Send(ctx, []byte("x")); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Send after drop: %v", err)
	}
	if _, err := a.Recv(ctx); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Recv after drop: %v", err)
	}
}

func TestPipeClose(t *testing.T) {
	a, b := Pipe(Config{TimeScale: 0.05})
	a.Close()
	ctx := ctxT(t, time.Second)
	if err := a.Send(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send on closed end: %v", err)
	}
	if _, err := b.Recv(ctx); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("peer Recv: %v", err)
	}
}

func TestPipeRandomDrop(t *testing.T) {
	a, b := Pipe(Config{ATTMTU: 23, DropRate: 0.05, TimeScale: 0.05, Rand: rand.NewPCG(3, 4)})
	ctx := ctxT(t, 5*time.Second)
	go func() {
		for {
			if a.Send(ctx, []byte("frame")) != nil {
				return
			}
		}
	}()
	var err error
	for n := 0; err == nil && n < 10000; n++ {
		_, err = b.Recv(ctx)
	}
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("5%% drop rate: %v, want ErrDisconnected", err)
	}
}

func TestPipeReproducible(t *testing.T) {
	run := func() string {
		a, b := Pipe(Config{ATTMTU: 23, Loss: 0.2, TimeScale: 0.2, Rand: rand.NewPCG(9, 9)})
		defer a.Close()
		ctx := ctxT(t, 5*time.Second)
		var log bytes.Buffer
		for i := range 20 {
			if err := a.Send(ctx, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		for range 20 {
			if _, err := b.Recv(ctx); err != nil {
				t.Fatal(err)
			}
			fmt.Fprint(&log, b.lastAt/b.p.cfg.Interval, " ")
		}
		return log.String()
	}
	if x, y := run(), run(); x != y {
		t.Fatalf("two runs with one seed delivered at events %s and %s", x, y)
	}
}

func TestPipeContext(t *testing.T) {
	a, b := Pipe(Config{TimeScale: 0.05})
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := b.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv with nothing sent: %v", err)
	}
	checkOrdered(t, exchange(t, a, b, 2, 10), 10) // the link survives a timed-out Recv
}

func TestPipeEmptyFrame(t *testing.T) {
	a, b := Pipe(Config{TimeScale: 0.05})
	defer a.Close()
	checkOrdered(t, exchange(t, a, b, 3, 0), 0)
}
