package sound

import (
	"math"
	"math/cmplx"
	"testing"
)

// TestUltrasonicStaysInBand: the ultrasonic mode's energy below 16 kHz (what most
// people hear) is at least 60 dB below its total, chirps, symbol changes and the fades
// at either end included: its tones change frequency with continuous phase, so there
// are no clicks, and the frequency glides over the guard.
func TestUltrasonicStaysInBand(t *testing.T) {
	x, err := Encode(payload(392, 3), Ultrasonic, DefaultRate)
	if err != nil {
		t.Fatal(err)
	}
	n := 1
	for n < len(x) {
		n <<= 1
	}
	c := make([]complex128, n)
	for i, v := range x {
		c[i] = complex(v, 0)
	}
	fft(c, false)
	var total, low float64
	for k := 0; k <= n/2; k++ {
		p := cmplx.Abs(c[k])
		p *= p
		total += p
		if float64(k)*DefaultRate/float64(n) < 16000 {
			low += p
		}
	}
	db := 10 * math.Log10(low/total)
	t.Logf("energy below 16 kHz: %.1f dB of the total", db)
	if db > -60 {
		t.Errorf("energy below 16 kHz is %.1f dB of the total, want below -60 dB", db)
	}
}
