package sound

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// MaxWAVBytes bounds what ReadWAV reads, and MaxWAVSeconds how long a recording
// ParseWAV takes: a pairing code lasts under ten seconds.
const (
	MaxWAVBytes   = 64 << 20
	MaxWAVSeconds = 120
)

// ErrWAV: the input is not a WAV file this package reads (RIFF/WAVE, PCM of 8, 16,
// 24 or 32 bits, or IEEE float of 32 bits, any number of channels).
var ErrWAV = errors.New("sound: not a readable WAV file")

// IsWAV reports whether b starts like a RIFF/WAVE file.
func IsWAV(b []byte) bool {
	return len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE"
}

// WriteWAV writes samples (in [-1, 1]; beyond is clipped) as a mono PCM16 WAV file.
func WriteWAV(w io.Writer, samples []float64, rate int) error {
	if rate <= 0 || rate > 1<<20 {
		return fmt.Errorf("sound: sample rate %d", rate)
	}
	data := len(samples) * 2
	h := make([]byte, 44, 44+data)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	for _, s := range samples {
		h = binary.LittleEndian.AppendUint16(h, uint16(pcm16(s)))
	}
	_, err := w.Write(h)
	return err
}

func pcm16(s float64) int16 {
	v := math.Round(s * 32767)
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	case v != v: // NaN
		return 0
	}
	return int16(v)
}

// ReadWAV reads a WAV file and returns its samples in [-1, 1], the channels averaged,
// and its sample rate. It reads at most MaxWAVBytes.
func ReadWAV(r io.Reader) ([]float64, int, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxWAVBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if len(b) > MaxWAVBytes {
		return nil, 0, fmt.Errorf("%w: longer than %d bytes", ErrWAV, MaxWAVBytes)
	}
	return ParseWAV(b)
}

// ParseWAV is ReadWAV of bytes in memory.
func ParseWAV(b []byte) ([]float64, int, error) {
	if !IsWAV(b) {
		return nil, 0, fmt.Errorf("%w: no RIFF/WAVE header", ErrWAV)
	}
	var (
		format, channels, bits uint16
		rate                   uint32
		haveFmt                bool
	)
	p := 12
	for p+8 <= len(b) {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		body := p + 8
		if size < 0 || body+size > len(b) {
			if id != "data" {
				return nil, 0, fmt.Errorf("%w: chunk %q runs past the end", ErrWAV, id)
			}
			size = len(b) - body // a recorder that never patched the size
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, fmt.Errorf("%w: short fmt chunk", ErrWAV)
			}
			format = binary.LittleEndian.Uint16(b[body:])
			channels = binary.LittleEndian.Uint16(b[body+2:])
			rate = binary.LittleEndian.Uint32(b[body+4:])
			bits = binary.LittleEndian.Uint16(b[body+14:])
			if format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the subformat's first two bytes
				format = binary.LittleEndian.Uint16(b[body+24:])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, 0, fmt.Errorf("%w: data before fmt", ErrWAV)
			}
			return samplesOf(b[body:body+size], format, channels, bits, rate)
		}
		p = body + size + size&1
	}
	return nil, 0, fmt.Errorf("%w: no data chunk", ErrWAV)
}

func samplesOf(d []byte, format, channels, bits uint16, rate uint32) ([]float64, int, error) {
	if channels == 0 || rate == 0 || rate > 1<<20 {
		return nil, 0, fmt.Errorf("%w: %d channels at %d Hz", ErrWAV, channels, rate)
	}
	var get func([]byte) float64
	switch {
	case format == 1 && bits == 8:
		get = func(s []byte) float64 { return (float64(s[0]) - 128) / 128 }
	case format == 1 && bits == 16:
		get = func(s []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(s))) / 32768 }
	case format == 1 && bits == 24:
		get = func(s []byte) float64 {
			return float64(int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24)>>8) / (1 << 23)
		}
	case format == 1 && bits == 32:
		get = func(s []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(s))) / (1 << 31) }
	case format == 3 && bits == 32:
		get = func(s []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(s))) }
	default:
		return nil, 0, fmt.Errorf("%w: format %d with %d bits", ErrWAV, format, bits)
	}
	width := int(bits/8) * int(channels)
	n := len(d) / width
	if n > MaxWAVSeconds*int(rate) {
		return nil, 0, fmt.Errorf("%w: longer than %d seconds", ErrWAV, MaxWAVSeconds)
	}
	out := make([]float64, n)
	for i := range out {
		var sum float64
		for c := 0; c < int(channels); c++ {
			sum += get(d[i*width+c*int(bits/8):])
		}
		out[i] = sum / float64(channels)
	}
	return out, int(rate), nil
}
