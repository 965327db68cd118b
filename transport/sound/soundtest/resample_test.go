package soundtest

import (
	"math"
	"testing"
)

// TestResample: a 20 kHz tone at 48 kHz comes out at 44.1 kHz as the same tone, within
// 1% of its amplitude, and a 23 kHz tone (above the new Nyquist frequency) is gone.
func TestResample(t *testing.T) {
	tone := func(f, fs float64, n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Sin(2 * math.Pi * f * float64(i) / fs)
		}
		return x
	}
	y := Resample(tone(20000, 48000, 48000), 48000, 44100)
	want := tone(20000, 44100, len(y))
	var worst float64
	for i := 1000; i < len(y)-1000; i++ {
		worst = math.Max(worst, math.Abs(y[i]-want[i]))
	}
	if worst > 0.01 {
		t.Errorf("20 kHz: off by %.4f", worst)
	}
	z := Resample(tone(23000, 48000, 48000), 48000, 44100)
	var peak float64
	for i := 1000; i < len(z)-1000; i++ {
		peak = math.Max(peak, math.Abs(z[i]))
	}
	if peak > 0.01 {
		t.Errorf("23 kHz: %.4f left", peak)
	}
}
