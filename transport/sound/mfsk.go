package sound

import (
	"math"
	"sort"
)

// The near-ultrasonic mode: 32-tone continuous-phase FSK in two groups of 16, one tone
// of each group at a time, so that a symbol carries one byte (the high nibble in the
// lower group). A symbol lasts a guard then a window; the receiver measures each tone's
// power over the window alone (Goertzel), so an echo shorter than the guard does not
// reach the next symbol's window.
const (
	ToneBase    = 17000.0 // Hz, the lowest tone
	ToneSpacing = 100.0   // Hz: 1/window, so the tones are orthogonal over a window
	groupTones  = 16
	window      = 0.010 // s
	guard       = 0.002 // s
	symbolTime  = window + guard
	chirpTime   = 0.150 // s, the preamble: a linear chirp over the band
	chirpGap    = 0.010 // s of silence after it
	chirpLow    = ToneBase
	chirpHigh   = ToneBase + 2*groupTones*ToneSpacing
	amplitude   = 0.45 // of each of the two tones
	fadeTime    = 0.004
)

// UltrasonicBitRate is the near-ultrasonic mode's raw bit rate (one byte a symbol).
const UltrasonicBitRate = 8 / symbolTime

func toneFreq(group, v int) float64 { return ToneBase + float64(group*groupTones+v)*ToneSpacing }

// chirp is the preamble's phase at t seconds.
func chirpPhase(t float64) float64 {
	k := (chirpHigh - chirpLow) / chirpTime
	return 2 * math.Pi * (chirpLow*t + k*t*t/2)
}

func fade(t, length float64) float64 {
	switch {
	case t < fadeTime:
		return 0.5 - 0.5*math.Cos(math.Pi*t/fadeTime)
	case length-t < fadeTime:
		return 0.5 - 0.5*math.Cos(math.Pi*math.Max(0, length-t)/fadeTime)
	}
	return 1
}

// modulateMFSK returns the audio of frame at sample rate fs.
func modulateMFSK(frame []byte, fs float64) []float64 {
	lead := 0.05 // s of silence before and after
	dataStart := lead + chirpTime + chirpGap
	dataLen := float64(len(frame)) * symbolTime
	postStart := dataStart + dataLen + chirpGap
	out := make([]float64, int(math.Ceil((postStart+chirpTime+lead)*fs)))
	for i := range out {
		t := float64(i)/fs - lead
		if t >= 0 && t < chirpTime {
			out[i] = 2 * amplitude * math.Sin(chirpPhase(t)) * fade(t, chirpTime)
		}
		if t := float64(i)/fs - postStart; t >= 0 && t < chirpTime {
			out[i] = 2 * amplitude * math.Sin(downChirpPhase(t)) * fade(t, chirpTime)
		}
	}
	var phase [2]float64
	for i := int(math.Ceil(dataStart * fs)); i < len(out); i++ {
		t := float64(i)/fs - dataStart
		s := int(t / symbolTime)
		if s >= len(frame) {
			break
		}
		v := 0.0
		in := t - float64(s)*symbolTime // time into the symbol
		for g := range 2 {
			f := toneFreq(g, nibble(frame[s], g))
			if s > 0 && in < guard {
				// The frequency glides to the new tone over the guard, which the
				// receiver does not listen to, with a raised cosine: no splatter.
				prev := toneFreq(g, nibble(frame[s-1], g))
				f = prev + (f-prev)*(0.5-0.5*math.Cos(math.Pi*in/guard))
			}
			phase[g] += 2 * math.Pi * f / fs
			v += amplitude * math.Sin(phase[g])
		}
		out[i] = v * fade(t, dataLen)
	}
	return out
}

// nibble is the half of b that group g sends: the high one in group 0.
func nibble(b byte, g int) int {
	if g == 0 {
		return int(b >> 4)
	}
	return int(b & 0x0F)
}

// downChirpPhase is the postamble's phase at t seconds: the preamble's sweep downwards,
// so that a search for the one does not find the other.
func downChirpPhase(t float64) float64 {
	k := (chirpHigh - chirpLow) / chirpTime
	return 2 * math.Pi * (chirpHigh*t - k*t*t/2)
}

// chirpTemplate is the analytic preamble at sample rate fs.
func chirpTemplate(fs float64) []complex128 { return template(chirpPhase, fs) }

func template(phase func(float64) float64, fs float64) []complex128 {
	n := int(chirpTime * fs)
	t := make([]complex128, n)
	for i := range t {
		ph := phase(float64(i) / fs)
		t[i] = complex(math.Cos(ph), math.Sin(ph))
	}
	return t
}

// normalised is the correlation of x with the analytic template t, divided by what a
// clean copy of the real chirp would give at each offset: 1 at best.
func normalised(x []float64, t []complex128) []float64 {
	c := correlate(x, t)
	m := len(t)
	cum := make([]float64, len(x)+1)
	for i, v := range x {
		cum[i+1] = cum[i] + v*v
	}
	for i := range c {
		e := cum[i+m] - cum[i]
		if e > 1e-12 {
			// A real chirp against the analytic template gives sqrt(m/2 * e) at best.
			c[i] /= math.Sqrt(float64(m) / 2 * e)
		} else {
			c[i] = 0
		}
	}
	return c
}

// preambleThreshold is the normalised correlation the preamble must reach: a clean
// chirp gives 1; noise alone stays near 1/sqrt(len), about 0.01 here.
const preambleThreshold = 0.12

// findPreambles returns the sample offsets where preambles start, best first: the
// peaks of the normalised correlation above the threshold, at least a chirp apart.
func findPreambles(x []float64, fs float64, most int) []int {
	t := chirpTemplate(fs)
	score := normalised(x, t)
	if score == nil {
		return nil
	}
	m := len(t)
	type peak struct {
		at int
		s  float64
	}
	var ps []peak
	for i, s := range score {
		if s < preambleThreshold {
			continue
		}
		if (i > 0 && score[i-1] > s) || (i+1 < len(score) && score[i+1] >= s) {
			continue
		}
		ps = append(ps, peak{i, s})
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].s > ps[b].s })
	var out []int
	for _, p := range ps {
		near := false
		for _, o := range out {
			if abs(o-p.at) < m {
				near = true
				break
			}
		}
		if !near {
			out = append(out, p.at)
			if len(out) == most {
				break
			}
		}
	}
	return out
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

// demodulateMFSK reads the frame after a preamble that starts at sample start: its
// header at the nominal rate, then, with the frame's length known, the postamble, whose
// distance from the preamble gives the receiver's clock against the sender's, and the
// whole frame at the corrected rate. Without a postamble (a recording cut short) the
// rate stays nominal.
//
// A clock far off shifts the tones off their bins (0.3% is 57 Hz at 19 kHz, and the
// tones are 100 Hz apart): the header is tried at a few rates across maxClockOffset.
func demodulateMFSK(x []float64, fs float64, start int) []rxByte {
	var first []rxByte
	for _, r := range []float64{1, 1.001, 0.999, 1.002, 0.998, 1.003, 0.997, 1.004, 0.996} {
		rx := readSymbols(x, fs*r, start, headerLen*headerCopies)
		if first == nil {
			first = rx
		}
		if n, ok := payloadLen(rx); ok {
			total := FrameLen(n)
			return readSymbols(x, fs*clockRatio(x, fs, start, total), start, total)
		}
	}
	return first
}

// clockRatio finds the postamble of a frame of total symbols whose preamble starts at
// start, within maxClockOffset of where the nominal rate puts it, and returns the ratio
// of the distance found to the nominal one (1 if it is not found).
func clockRatio(x []float64, fs float64, start, total int) float64 {
	span := (chirpTime + chirpGap + float64(total)*symbolTime + chirpGap) * fs
	at := start + int(span)
	w := int(span*maxClockOffset) + 8
	t := template(downChirpPhase, fs)
	a, b := max(0, at-w), min(len(x), at+w+len(t))
	if b-a < len(t) {
		return 1
	}
	score := normalised(x[a:b], t)
	best, bi := 0.0, -1
	for i, s := range score {
		if s > best {
			best, bi = s, i
		}
	}
	if best < preambleThreshold {
		return 1
	}
	return float64(a+bi-start) / span
}

// maxClockOffset is the largest difference between the sender's and the receiver's
// clocks the postamble is searched for: 0.5%.
const maxClockOffset = 0.005

// readSymbols reads up to n symbols after a preamble at start, at sample rate fs.
func readSymbols(x []float64, fs float64, start, n int) []rxByte {
	dataStart := float64(start) + (chirpTime+chirpGap)*fs
	var rx []rxByte
	for s := range n {
		a := int(math.Round(dataStart + (float64(s)*symbolTime+guard)*fs))
		b := int(math.Round(dataStart + (float64(s)*symbolTime+symbolTime)*fs))
		if b > len(x) {
			break
		}
		rx = append(rx, symbolAt(x[a:b], fs))
	}
	return rx
}

// symbolAt decides one symbol from its window: in each group the strongest tone, and
// the runner-up as the soft alternative, its cost the power ratio in decibels.
func symbolAt(w []float64, fs float64) rxByte {
	var nib [2]byte
	var alts []alt
	var second [2]byte
	var cost [2]float64
	for g := range 2 {
		best, next := -1.0, -1.0
		var bi, ni int
		for v := range groupTones {
			p := goertzel(w, toneFreq(g, v), fs)
			switch {
			case p > best:
				next, ni = best, bi
				best, bi = p, v
			case p > next:
				next, ni = p, v
			}
		}
		nib[g], second[g] = byte(bi), byte(ni)
		cost[g] = 10 * math.Log10((best+1e-30)/(next+1e-30))
	}
	v := nib[0]<<4 | nib[1]
	alts = append(alts, alt{second[0]<<4 | nib[1], cost[0]}, alt{nib[0]<<4 | second[1], cost[1]})
	return rxByte{v: v, alts: alts}
}
