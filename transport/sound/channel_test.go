package sound_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/offpay/offpay/transport/sound"
	"github.com/offpay/offpay/transport/sound/soundtest"
)

func randomPayload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// pairingSize is the length of a pairing code with the longest certified name
// (transport/qr TestCertifiedNamesFitTheCodes).
const pairingSize = 392

// through sends payload through ch in mode and decodes what the receiver recorded,
// after a round trip through a PCM16 WAV file.
func through(t *testing.T, payload []byte, mode sound.Mode, ch soundtest.Channel) ([]byte, error) {
	t.Helper()
	x, err := sound.Encode(payload, mode, sound.DefaultRate)
	if err != nil {
		t.Fatal(err)
	}
	y, rate := ch.Apply(x, sound.DefaultRate)
	var w bytes.Buffer
	if err := sound.WriteWAV(&w, y, rate); err != nil {
		t.Fatal(err)
	}
	got, m, err := sound.DecodeWAV(w.Bytes())
	if err == nil && m != mode {
		t.Errorf("decoded as %v, sent as %v", m, mode)
	}
	return got, err
}

// TestChannel: each impairment, alone and together, at levels a phone-to-phone
// link may see, decodes the exact bytes in both modes.
func TestChannel(t *testing.T) {
	cases := []struct {
		name string
		ch   soundtest.Channel
		// audible is false where the case is the ultrasonic mode's alone (the
		// audible mode's limits are its own cases below).
		audible bool
	}{
		{"clean", soundtest.Channel{Lead: time.Second}, true},
		{"noise 10 dB", soundtest.Channel{Noise: true, SNR: 10, Lead: time.Second}, true},
		{"noise 0 dB", soundtest.Channel{Noise: true, SNR: 0, Lead: time.Second}, true},
		{"noise -6 dB", soundtest.Channel{Noise: true, SNR: -6, Lead: time.Second}, false},
		{"echo 1.5 ms", soundtest.Channel{EchoDelay: 1500 * time.Microsecond, EchoGain: 0.6, Lead: time.Second}, true},
		{"echo 30 ms", soundtest.Channel{EchoDelay: 30 * time.Millisecond, EchoGain: 0.4, Lead: time.Second}, true},
		{"48 kHz to 44.1 kHz", soundtest.Channel{Rate: 44100, Lead: time.Second}, true},
		{"44.1 kHz receiver 100 ppm fast", soundtest.Channel{Rate: 44100, ClockPPM: 100, Lead: time.Second}, true},
		{"receiver 100 ppm slow", soundtest.Channel{ClockPPM: -100, Lead: time.Second}, true},
		{"receiver 0.3% fast", soundtest.Channel{ClockPPM: 3000, Lead: time.Second}, true},
		{"44.1 kHz receiver 0.1% slow", soundtest.Channel{Rate: 44100, ClockPPM: -1000, Lead: time.Second}, true},
		{"clipped at 30%", soundtest.Channel{Gain: 1, Clip: 0.3, Lead: time.Second}, true},
		{"quiet: -40 dB", soundtest.Channel{Gain: 0.01, Lead: time.Second}, true},
		{"all at once", soundtest.Channel{Noise: true, SNR: 10, EchoDelay: 1500 * time.Microsecond, EchoGain: 0.5,
			Rate: 44100, ClockPPM: 50, Gain: 2, Clip: 0.8, Lead: time.Second}, true},
	}
	for _, c := range cases {
		for _, mode := range []sound.Mode{sound.Ultrasonic, sound.Audible} {
			if mode == sound.Audible && !c.audible {
				continue
			}
			t.Run(c.name+"/"+mode.String(), func(t *testing.T) {
				for seed := range uint64(seeds(3)) {
					p := randomPayload(pairingSize, seed)
					ch := c.ch
					ch.Seed = seed
					got, err := through(t, p, mode, ch)
					if err != nil {
						t.Fatalf("seed %d: %v", seed, err)
					}
					if !bytes.Equal(got, p) {
						t.Fatalf("seed %d: wrong bytes", seed)
					}
				}
			})
		}
	}
}

// TestChannelFailsTyped: past what the code corrects, decoding fails with a typed
// error, never with wrong bytes.
func TestChannelFailsTyped(t *testing.T) {
	cases := []struct {
		name string
		mode sound.Mode
		ch   soundtest.Channel
	}{
		{"ultrasonic at -20 dB", sound.Ultrasonic, soundtest.Channel{Noise: true, SNR: -20, Lead: time.Second}},
		{"ultrasonic at -14 dB", sound.Ultrasonic, soundtest.Channel{Noise: true, SNR: -14, Lead: time.Second}},
		{"audible at -6 dB", sound.Audible, soundtest.Channel{Noise: true, SNR: -6, Lead: time.Second}},
		{"ultrasonic clock 2% off", sound.Ultrasonic, soundtest.Channel{ClockPPM: 20000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failed := 0
			for seed := range uint64(seeds(4)) {
				p := randomPayload(pairingSize, seed)
				ch := c.ch
				ch.Seed = seed
				got, err := through(t, p, c.mode, ch)
				switch {
				case err == nil && !bytes.Equal(got, p):
					t.Fatalf("seed %d: wrong bytes without an error", seed)
				case err != nil && !sound.IsDecodeError(err):
					t.Fatalf("seed %d: untyped error %v", seed, err)
				case err != nil:
					failed++
					t.Logf("seed %d: %v", seed, err)
				}
			}
			if failed == 0 {
				t.Logf("every seed decoded")
			}
		})
	}
}

func TestSilenceIsNoSignal(t *testing.T) {
	y, rate := soundtest.Channel{Noise: true, SNR: 0}.Apply(make([]float64, 48000), 48000)
	for i := range y { // the channel scales noise to the signal: here there is none
		y[i] = 0.01 * float64(i%7-3)
	}
	if _, _, err := sound.Decode(y, rate); !errors.Is(err, sound.ErrNoSignal) {
		t.Fatalf("silence: %v", err)
	}
}

// seeds is n, or 1 under the race detector (raceEnabled).
func seeds(n int) int {
	if raceEnabled {
		return 1
	}
	return n
}
