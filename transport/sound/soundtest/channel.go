// Package soundtest is a simulated acoustic channel for testing transport/sound: white
// noise at a signal-to-noise ratio, an echo, a receiver whose sample rate and clock
// differ from the sender's (a resampler), gain and clipping, and silence around the
// signal; and the frame error rate measured through it, written as a table and a plot.
package soundtest

import (
	"math"
	"math/rand/v2"
	"time"
)

// Channel is what the air, a speaker and a microphone do to the sound between two
// phones. The zero value passes it unchanged.
type Channel struct {
	// Noise adds white Gaussian noise over the whole band, SNR decibels below the
	// signal's mean power (measured where it sounds, not over the silence around it).
	Noise bool
	SNR   float64
	// Echo adds the signal again, EchoDelay later, scaled by EchoGain.
	EchoDelay time.Duration
	EchoGain  float64
	// Rate is the receiver's sample rate (0: the sender's); ClockPPM is how far the
	// receiver's clock runs fast (positive) or slow against its nominal rate, in parts
	// per million.
	Rate     int
	ClockPPM float64
	// Gain scales the signal at the microphone (0: 1). Clip, if positive, clips what
	// is recorded to ±Clip of full scale: an overloaded microphone or converter.
	// Without Clip, a recording that would exceed full scale is scaled down to fit, as
	// a recorder's gain control does.
	Gain float64
	Clip float64
	// Lead is the most silence (noise, with Noise) recorded before the signal and after
	// it; the actual amount is drawn from Seed.
	Lead time.Duration
	Seed uint64
}

// Apply sends x, sampled at rate, through the channel and returns what the receiver
// records, and its sample rate.
func (c Channel) Apply(x []float64, rate int) ([]float64, int) {
	r := rand.New(rand.NewPCG(c.Seed, 0x50554e44))
	fs := float64(rate)
	power := signalPower(x)
	y := append([]float64(nil), x...)
	if c.EchoDelay > 0 && c.EchoGain != 0 {
		d := int(c.EchoDelay.Seconds() * fs)
		y = append(y, make([]float64, d)...)
		for i := len(y) - 1; i >= d; i-- {
			if i-d < len(x) {
				y[i] += c.EchoGain * x[i-d]
			}
		}
	}
	if c.Lead > 0 {
		pre := int(r.Float64() * c.Lead.Seconds() * fs)
		post := int(r.Float64() * c.Lead.Seconds() * fs)
		y = append(append(make([]float64, pre), y...), make([]float64, post)...)
	}
	out := rate
	if c.Rate > 0 {
		out = c.Rate
	}
	if out != rate || c.ClockPPM != 0 {
		y = Resample(y, fs, float64(out)*(1+c.ClockPPM*1e-6))
	}
	g := c.Gain
	if g == 0 {
		g = 1
	}
	sigma := 0.0
	if c.Noise {
		sigma = math.Sqrt(power * g * g / math.Pow(10, c.SNR/10))
	}
	peak := 0.0
	for i := range y {
		y[i] = y[i]*g + sigma*r.NormFloat64()
		if c.Clip > 0 {
			y[i] = math.Max(-c.Clip, math.Min(c.Clip, y[i]))
		}
		peak = math.Max(peak, math.Abs(y[i]))
	}
	if c.Clip == 0 && peak > 0.99 {
		// A recorder's gain control: without Clip, a recording louder than full scale
		// (strong noise) is scaled to fit rather than clipped when written as PCM.
		for i := range y {
			y[i] *= 0.99 / peak
		}
	}
	return y, out
}

// signalPower is the mean power of x between its first and last sample that sound.
func signalPower(x []float64) float64 {
	a, b := 0, len(x)
	for a < b && math.Abs(x[a]) < 1e-4 {
		a++
	}
	for b > a && math.Abs(x[b-1]) < 1e-4 {
		b--
	}
	if a == b {
		return 0
	}
	var s float64
	for _, v := range x[a:b] {
		s += v * v
	}
	return s / float64(b-a)
}

// resampleTaps is half the length of the resampler's windowed-sinc kernel, in input
// samples: a transition band of about 2 kHz at 48 kHz.
const resampleTaps = 64

// resamplePhases is how finely the kernel is tabulated between two input samples: the
// nearest phase is used, off by at most 1/2048 of a sample (-58 dB at 20 kHz).
const resamplePhases = 1024

// Resample converts x from sample rate from to sample rate to with a Blackman-windowed
// sinc low-pass 600 Hz below the lower Nyquist frequency.
func Resample(x []float64, from, to float64) []float64 {
	n := int(float64(len(x)) * to / from)
	out := make([]float64, n)
	cut := (math.Min(from, to)/2 - 600) / from // cycles per input sample
	// table[p*taps+k] is the kernel at t - i for the tap i = i0-resampleTaps+1+k when
	// t = i0 + p/resamplePhases.
	const taps = 2 * resampleTaps
	table := make([]float64, (resamplePhases+1)*taps)
	for p := 0; p <= resamplePhases; p++ {
		frac := float64(p) / resamplePhases
		for k := range taps {
			u := frac - float64(k-resampleTaps+1)
			w := 0.42 + 0.5*math.Cos(math.Pi*u/resampleTaps) + 0.08*math.Cos(2*math.Pi*u/resampleTaps)
			if math.Abs(u) >= resampleTaps {
				w = 0
			}
			table[p*taps+k] = 2 * cut * sinc(2*cut*u) * w
		}
	}
	step := from / to
	for j := range out {
		t := float64(j) * step
		i0 := int(math.Floor(t))
		p := int(math.Round((t - float64(i0)) * resamplePhases))
		row := table[p*taps : (p+1)*taps]
		first := i0 - resampleTaps + 1
		lo, hi := max(0, -first), min(taps, len(x)-first)
		var s float64
		if lo < hi {
			for k, v := range x[first+lo : first+hi] {
				s += v * row[lo+k]
			}
		}
		out[j] = s
	}
	return out
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}
