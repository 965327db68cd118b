package sound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Mode is a modulation.
type Mode int

const (
	// Ultrasonic is 32-tone FSK at 17.0 to 20.1 kHz, inaudible to most adults.
	Ultrasonic Mode = iota
	// Audible is Bell 202 1200 baud AFSK, which minimodem and other modems decode.
	Audible
)

func (m Mode) String() string {
	switch m {
	case Ultrasonic:
		return "ultrasonic"
	case Audible:
		return "audible"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode reads "ultrasonic" or "audible".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "ultrasonic":
		return Ultrasonic, nil
	case "audible":
		return Audible, nil
	}
	return 0, fmt.Errorf("sound mode %q: want ultrasonic or audible", s)
}

// DefaultRate is the sample rate Encode is usually given: every phone records at it.
const DefaultRate = 48000

// MinUltrasonicRate is the lowest sample rate the ultrasonic mode is sent or received
// at: its top tone must stay below the Nyquist frequency with room for a filter.
const MinUltrasonicRate = 44100

// Encode returns the audio, samples in [-1, 1] at rate, that carries payload in mode.
func Encode(payload []byte, mode Mode, rate int) ([]float64, error) {
	frame, err := Frame(payload)
	if err != nil {
		return nil, err
	}
	switch mode {
	case Ultrasonic:
		if rate < MinUltrasonicRate {
			return nil, fmt.Errorf("sound: the ultrasonic mode needs a sample rate of at least %d Hz, not %d", MinUltrasonicRate, rate)
		}
		return modulateMFSK(frame, float64(rate)), nil
	case Audible:
		if rate < 8000 {
			return nil, fmt.Errorf("sound: the audible mode needs a sample rate of at least 8000 Hz, not %d", rate)
		}
		return modulateAFSK(frame, float64(rate)), nil
	}
	return nil, fmt.Errorf("sound: unknown mode %d", mode)
}

// Duration is how long the audio carrying an n-byte payload lasts in mode.
func Duration(n int, mode Mode) float64 {
	f := float64(FrameLen(n))
	if mode == Audible {
		return 2*afskLead + afskIdle + afskTail + f*10/Baud
	}
	return 0.1 + 2*(chirpTime+chirpGap) + f*symbolTime
}

// Decode finds and decodes a payload in audio at rate, trying the ultrasonic mode then
// the audible one. It returns the exact bytes sent or an error matching ErrNoSignal,
// ErrDamaged or ErrCorrupt.
func Decode(samples []float64, rate int) ([]byte, Mode, error) {
	fs := float64(rate)
	var firstErr error
	if rate >= MinUltrasonicRate {
		for _, start := range findPreambles(samples, fs, 3) {
			p, err := unframe(demodulateMFSK(samples, fs, start))
			if err == nil {
				return p, Ultrasonic, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if rate < 8000 {
		return nil, 0, fmt.Errorf("%w: a sample rate of %d Hz is too low for either mode", ErrNoSignal, rate)
	}
	rx := demodulateAFSK(samples, fs)
	for p := 0; p < len(rx); {
		start, ok := findHeader(rx[p:])
		if !ok {
			break
		}
		pl, err := unframe(rx[p+start:])
		if err == nil {
			return pl, Audible, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		p += start + 1
	}
	if firstErr == nil {
		firstErr = ErrNoSignal
	}
	return nil, 0, firstErr
}

// EncodeWAV writes the WAV file carrying payload in mode at rate.
func EncodeWAV(w io.Writer, payload []byte, mode Mode, rate int) error {
	s, err := Encode(payload, mode, rate)
	if err != nil {
		return err
	}
	return WriteWAV(w, s, rate)
}

// DecodeWAV decodes the payload a WAV file carries (Decode).
func DecodeWAV(b []byte) ([]byte, Mode, error) {
	s, rate, err := ParseWAV(b)
	if err != nil {
		return nil, 0, err
	}
	return Decode(s, rate)
}

// WAV is EncodeWAV into memory.
func WAV(payload []byte, mode Mode, rate int) ([]byte, error) {
	var b bytes.Buffer
	if err := EncodeWAV(&b, payload, mode, rate); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// IsDecodeError reports whether err is one of the typed decoding failures.
func IsDecodeError(err error) bool {
	return errors.Is(err, ErrNoSignal) || errors.Is(err, ErrDamaged) || errors.Is(err, ErrCorrupt)
}
