package soundtest_test

import (
	"flag"
	"fmt"
	"testing"

	"github.com/offpay/offpay/transport/sound"
	"github.com/offpay/offpay/transport/sound/soundtest"
)

var docs = flag.String("sound.docs", "", "measure the frame error rate curves at full length and write them to this folder (docs/sound)")

// pairingSize is a pairing code with the longest certified name (transport/qr).
const pairingSize = 392

// TestFER: a short sweep (the full one writes docs/sound with -sound.docs): no frame is
// ever delivered wrong, frames get through where the link has margin, and none at
// levels far below it.
func TestFER(t *testing.T) {
	trials := 3
	if raceEnabled {
		trials = 1
	}
	us := []float64{-24, -16, -8}
	au := []float64{-6, 0, 6}
	if *docs != "" {
		trials = 100
		us = []float64{-18, -17, -16, -15, -14, -13, -12, -11, -10, -8, -6, -4, -2, 0}
		au = []float64{-6, -5, -4, -3, -2, -1, 0, 1, 2, 4, 6, 8}
	}
	pu, err := soundtest.MeasureFER(sound.Ultrasonic, pairingSize, us, trials, soundtest.Channel{})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := soundtest.MeasureFER(sound.Audible, pairingSize, au, trials, soundtest.Channel{})
	if err != nil {
		t.Fatal(err)
	}
	pts := append(pu, pa...)
	for _, p := range pts {
		if p.Wrong > 0 {
			t.Errorf("%v at %g dB: %d frames delivered with wrong bytes", p.Mode, p.SNR, p.Wrong)
		}
	}
	t.Logf("\n%s", soundtest.Table(pts))
	if *docs == "" {
		if pu[2].FER() > 0 || pa[2].FER() > 0 {
			t.Errorf("frames lost with margin: ultrasonic at %g dB %.2f, audible at %g dB %.2f", pu[2].SNR, pu[2].FER(), pa[2].SNR, pa[2].FER())
		}
		return
	}
	files, err := soundtest.WriteFER(*docs, fmt.Sprintf("Frame error rate of a %d-byte pairing code (%d trials a point)", pairingSize, trials), pts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %v", files)
}
