package channel

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/offpay/offpay/transport/link"
)

// linkPair makes a fresh link pair for one benchmark iteration.
type linkPair func(b *testing.B) (link.Conn, link.Conn)

// bleLink is the project's reference link: 15 ms connection interval, ATT MTU 247 (244-byte
// frames), in real time so the figures are wall-clock milliseconds.
func bleLink(b *testing.B) (link.Conn, link.Conn) {
	x, y := link.Pipe(link.Config{ATTMTU: 247, Interval: 15 * time.Millisecond})
	return x, y
}

func tcpLink(b *testing.B) (link.Conn, link.Conn) {
	l, err := link.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ch := make(chan link.Conn, 1)
	go func() {
		c, err := l.Accept(context.Background())
		if err != nil {
			b.Error(err)
		}
		ch <- c
	}()
	x, err := link.Dial(context.Background(), l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	return x, <-ch
}

// benchChannel measures, per iteration on a fresh link, the handshake and then one
// 300-byte request answered by a 300-byte response (a payment and its receipt).
func benchChannel(b *testing.B, mk linkPair) {
	r := newResponder(b, ResponderConfig{MaxPending: 1 << 20})
	req := bytes.Repeat([]byte{1}, 300)
	ctx := context.Background()
	var hsAll, exAll []time.Duration
	for b.Loop() {
		b.StopTimer()
		p := pair(b, r)
		x, y := mk(b)
		b.StartTimer()
		go func() {
			s, err := r.Accept(ctx, y)
			if err != nil {
				return
			}
			if msg, err := s.Recv(ctx); err == nil {
				_ = s.Send(ctx, msg)
			}
		}()
		t0 := time.Now()
		s, err := Dial(ctx, x, p)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := s.Call(ctx, req); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		hsAll, exAll = append(hsAll, t1.Sub(t0)), append(exAll, t2.Sub(t1))
		b.StopTimer()
		x.Close()
		y.Close()
		b.StartTimer()
	}
	b.ReportMetric(ms(median(hsAll)), "handshake-ms")
	b.ReportMetric(ms(median(exAll)), "exchange-ms")
	b.ReportMetric(ms(median(hsAll)+median(exAll)), "total-ms")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func BenchmarkChannelBLE15ms244(b *testing.B) { benchChannel(b, bleLink) }
func BenchmarkChannelTCP(b *testing.B)        { benchChannel(b, tcpLink) }

// BenchmarkHandshakeCPU is both sides of a handshake with no link delay.
func BenchmarkHandshakeCPU(b *testing.B) {
	benchChannel(b, func(b *testing.B) (link.Conn, link.Conn) {
		x, y := link.Pipe(link.Config{Interval: time.Nanosecond, PacketsPerEvent: 64, TimeScale: 1e-9})
		return x, y
	})
}

// BenchmarkChannelBLE15ms20 is the worst case: the default ATT MTU of 23 (20-byte frames).
func BenchmarkChannelBLE15ms20(b *testing.B) {
	benchChannel(b, func(b *testing.B) (link.Conn, link.Conn) {
		x, y := link.Pipe(link.Config{ATTMTU: 23, Interval: 15 * time.Millisecond})
		return x, y
	})
}
