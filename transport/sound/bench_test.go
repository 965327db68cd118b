package sound

import "testing"

// BenchmarkDecode: the time to find and decode a 392-byte pairing code in a recording
// with a second of silence before it.
func BenchmarkDecode(b *testing.B) {
	for _, mode := range []Mode{Ultrasonic, Audible} {
		b.Run(mode.String(), func(b *testing.B) {
			x, err := Encode(payload(392, 1), mode, DefaultRate)
			if err != nil {
				b.Fatal(err)
			}
			x = append(make([]float64, DefaultRate), x...)
			for b.Loop() {
				if _, _, err := Decode(x, DefaultRate); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
