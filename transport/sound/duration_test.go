package sound

import (
	"math"
	"testing"
)

// TestDuration: Duration is the length of what Encode makes; the log is the README's
// table of air time and net bit rate.
func TestDuration(t *testing.T) {
	for _, n := range []int{100, 300, 392, 1024} {
		for _, mode := range []Mode{Ultrasonic, Audible} {
			x, err := Encode(make([]byte, n), mode, DefaultRate)
			if err != nil {
				t.Fatal(err)
			}
			got := float64(len(x)) / DefaultRate
			if d := Duration(n, mode); math.Abs(d-got) > 0.01 {
				t.Errorf("%v, %d bytes: Duration %.3f s, audio %.3f s", mode, n, d, got)
			}
			t.Logf("%-10v %5d bytes: frame %5d bytes, %.2f s, %.0f bit/s of payload", mode, n, FrameLen(n), got, float64(8*n)/got)
		}
	}
}
