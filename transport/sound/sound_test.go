package sound

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRoundTripClean(t *testing.T) {
	for _, mode := range []Mode{Ultrasonic, Audible} {
		for _, rate := range []int{44100, 48000} {
			for _, n := range []int{0, 1, 60, 392} {
				p := payload(n, uint64(n))
				w, err := WAV(p, mode, rate)
				if err != nil {
					t.Fatal(err)
				}
				got, m, err := DecodeWAV(w)
				if err != nil || m != mode || !bytes.Equal(got, p) {
					t.Fatalf("%v at %d Hz, %d bytes: mode %v, err %v, equal %v", mode, rate, n, m, err, bytes.Equal(got, p))
				}
			}
		}
	}
}

// TestOddRates: any sample rate a WAV header may claim decodes to a typed error, and
// ends.
func TestOddRates(t *testing.T) {
	x := make([]float64, 20000)
	for i := range x {
		x[i] = float64(i%13-6) / 7
	}
	for _, rate := range []int{1, 100, 1199, 1200, 8000, 11025, 192000} {
		if _, _, err := Decode(x, rate); !IsDecodeError(err) {
			t.Errorf("%d Hz: %v", rate, err)
		}
	}
	if _, err := Encode([]byte("x"), Ultrasonic, 22050); err == nil {
		t.Error("ultrasonic at 22050 Hz encoded")
	}
	if _, err := Encode(make([]byte, MaxPayload+1), Audible, 48000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}
