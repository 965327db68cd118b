package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offpay/offpay/transport/sound"
	"github.com/offpay/offpay/transport/sound/soundtest"
)

// air IN.wav OUT.wav [snr=DB] [echo=DELAY:GAIN] [rate=HZ] [ppm=N] [clip=LEVEL] [seed=N]:
// play a WAV file across a room into another phone's microphone: the simulated
// acoustic channel of transport/sound/soundtest, with a second of silence around.
func cmdAir(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: air IN.wav OUT.wav [snr=DB] [echo=DELAY:GAIN] [rate=HZ] [ppm=N] [clip=LEVEL] [seed=N]")
	}
	x, rate, err := sound.ParseWAV([]byte(ts.ReadFile(args[0])))
	ts.Check(err)
	ch := soundtest.Channel{Lead: time.Second}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		ts.Check(err)
		return v
	}
	for _, a := range args[2:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "snr":
			ch.Noise, ch.SNR = true, num(v)
		case "echo":
			d, g, _ := strings.Cut(v, ":")
			delay, err := time.ParseDuration(d)
			ts.Check(err)
			ch.EchoDelay, ch.EchoGain = delay, num(g)
		case "rate":
			ch.Rate = int(num(v))
		case "ppm":
			ch.ClockPPM = num(v)
		case "clip":
			ch.Clip = num(v)
		case "seed":
			ch.Seed = uint64(num(v))
		default:
			ts.Fatalf("air: unknown impairment %q", a)
		}
	}
	y, out := ch.Apply(x, rate)
	var b bytes.Buffer
	ts.Check(sound.WriteWAV(&b, y, out))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o644))
}
