package sound

import (
	"math"
	"math/cmplx"
	"sort"
)

// The audible mode: Bell 202, 1200 baud AFSK (mark 1200 Hz for 1, space 2200 Hz for 0),
// asynchronous 8-N-1 bytes, least significant bit first, as minimodem's "1200" mode
// and the telephone caller ID send it. It carries the same frame as the ultrasonic mode.
const (
	Baud      = 1200.0
	MarkFreq  = 1200.0
	SpaceFreq = 2200.0
	afskLead  = 0.05 // s of silence before and after
	afskIdle  = 0.30 // s of mark before the first byte: the receiver's carrier detect
	afskTail  = 0.05 // s of mark after the last
	afskAmp   = 0.7
)

// AudibleBitRate is the audible mode's bit rate of data: 8 of every 10 bits on the line.
const AudibleBitRate = Baud * 8 / 10

// modulateAFSK returns the audio of frame at sample rate fs.
func modulateAFSK(frame []byte, fs float64) []float64 {
	var bitsOut []bool
	for range int(afskIdle * Baud) {
		bitsOut = append(bitsOut, true)
	}
	for _, b := range frame {
		bitsOut = append(bitsOut, false)
		for j := range 8 {
			bitsOut = append(bitsOut, b>>j&1 == 1)
		}
		bitsOut = append(bitsOut, true)
	}
	for range int(afskTail * Baud) {
		bitsOut = append(bitsOut, true)
	}
	body := float64(len(bitsOut)) / Baud
	out := make([]float64, int(math.Ceil((2*afskLead+body)*fs)))
	phase := 0.0
	for i := range out {
		t := float64(i)/fs - afskLead
		if t < 0 || t >= body {
			continue
		}
		f := SpaceFreq
		if bitsOut[min(int(t*Baud), len(bitsOut)-1)] {
			f = MarkFreq
		}
		phase += 2 * math.Pi * f / fs
		out[i] = afskAmp * math.Sin(phase) * fade(t, body)
	}
	return out
}

// discriminate returns, for each sample n, (mark - space) / (mark + space) of the
// powers over the one-bit window ending at n.
func discriminate(x []float64, fs float64) []float64 {
	l := max(1, int(math.Round(fs/Baud)))
	d := make([]float64, len(x))
	wm, ws := 2*math.Pi*MarkFreq/fs, 2*math.Pi*SpaceFreq/fs
	var sm, ss complex128
	for n, v := range x {
		sm += complex(v, 0) * cmplx.Rect(1, -wm*float64(n))
		ss += complex(v, 0) * cmplx.Rect(1, -ws*float64(n))
		if n >= l { // the sample leaving the window
			sm -= complex(x[n-l], 0) * cmplx.Rect(1, -wm*float64(n-l))
			ss -= complex(x[n-l], 0) * cmplx.Rect(1, -ws*float64(n-l))
		}
		pm, ps := real(sm)*real(sm)+imag(sm)*imag(sm), real(ss)*real(ss)+imag(ss)*imag(ss)
		if pm+ps > 1e-12 {
			d[n] = (pm - ps) / (pm + ps)
		}
	}
	return d
}

// demodulateAFSK is a UART over the discriminator: it hunts a mark-to-space edge, reads
// the byte at the bit centres, then expects the next start bit ten bits on, re-timed
// on the edge near there, until it sees idle mark. Every byte comes with its least sure
// bits flipped as the soft alternatives.
func demodulateAFSK(x []float64, fs float64) []rxByte {
	d := discriminate(x, fs)
	spb := fs / Baud
	l := max(1, int(math.Round(spb)))
	at := func(e float64, bit int) float64 { // d for bit j of the byte whose start edge is e
		i := int(math.Round(e + float64(bit+1)*spb - 1))
		if i < 0 || i >= len(d) {
			return 0
		}
		return d[i]
	}
	// crossing finds a mark-to-space zero crossing of d in [a, b): the edge then lies
	// half a window earlier.
	crossing := func(a, b int) (float64, bool) {
		for n := max(a, 1); n < b && n < len(d); n++ {
			if d[n-1] >= 0 && d[n] < 0 {
				return float64(n) - float64(l)/2, true
			}
		}
		return 0, false
	}
	var rx []rxByte
	n := l
	for n < len(d) {
		// Hunt: a bit of mark, then the edge.
		e, ok := crossing(n, len(d))
		if !ok {
			break
		}
		for {
			if e+10*spb > float64(len(d)) || at(e, 0) >= 0 {
				break // not a start bit
			}
			var b byte
			type conf struct {
				bit int
				c   float64
			}
			var cs []conf
			for j := range 8 {
				v := at(e, j+1)
				if v > 0 {
					b |= 1 << j
				}
				cs = append(cs, conf{j, math.Abs(v)})
			}
			sort.Slice(cs, func(a, b int) bool { return cs[a].c < cs[b].c })
			r := rxByte{v: b}
			for _, c := range cs[:2] {
				r.alts = append(r.alts, alt{b ^ 1<<c.bit, c.c})
			}
			rx = append(rx, r)
			// The next start bit, ten bits on, re-timed on its edge if one is near.
			next := e + 10*spb
			if ne, ok := crossing(int(next), int(next)+l); ok {
				next = ne
			}
			e = next
		}
		n = max(int(e)+l, n+1)
	}
	return rx
}
