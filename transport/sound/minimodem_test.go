package sound_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/transport/sound"
)

// minimodem returns the path of the independent modem, skipping the test without it
// unless OFFPAY_REQUIRE_MINIMODEM=1 (set by .ci/run, which installs it).
func minimodem(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("minimodem")
	if err != nil {
		if os.Getenv("OFFPAY_REQUIRE_MINIMODEM") == "1" {
			t.Fatalf("minimodem is required (OFFPAY_REQUIRE_MINIMODEM=1) but not found: %v", err)
		}
		t.Skip("minimodem is not installed (Debian: apt-get install minimodem): the interoperation test of the audible mode is skipped")
	}
	return p
}

// TestMinimodemDecodesAudible: the independent modem minimodem, in its Bell 202
// mode ("1200"), reads our audible WAV file byte for byte: the frame it prints is the
// frame we sent, and it unframes to the payload.
func TestMinimodemDecodesAudible(t *testing.T) {
	mm := minimodem(t)
	for _, rate := range []int{48000, 44100} {
		p := randomPayload(pairingSize, uint64(rate))
		w, err := sound.WAV(p, sound.Audible, rate)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "pairing.wav")
		if err := os.WriteFile(f, w, 0o600); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(mm, "--rx", "-f", f, "1200")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("minimodem at %d Hz: %v\n%s", rate, err, stderr.Bytes())
		}
		frame, err := sound.Frame(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, frame) {
			t.Fatalf("minimodem at %d Hz printed %d bytes, not the %d-byte frame sent\n%s", rate, len(out), len(frame), stderr.Bytes())
		}
		got, err := sound.Unframe(out)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("minimodem's bytes unframe to %d bytes, %v", len(got), err)
		}
		t.Logf("%d Hz: minimodem: %s", rate, bytes.TrimSpace(stderr.Bytes()))
	}
}

// TestWeDecodeMinimodem: audio that minimodem makes of a frame ("--tx 1200") decodes
// to the payload with our demodulator.
func TestWeDecodeMinimodem(t *testing.T) {
	mm := minimodem(t)
	p := randomPayload(pairingSize, 9)
	frame, err := sound.Frame(p)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "minimodem.wav")
	cmd := exec.Command(mm, "--tx", "-f", f, "1200")
	cmd.Stdin = bytes.NewReader(frame)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("minimodem --tx: %v\n%s", err, out)
	}
	w, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	got, mode, err := sound.DecodeWAV(w)
	if err != nil || mode != sound.Audible || !bytes.Equal(got, p) {
		t.Fatalf("decoding minimodem's audio: mode %v, %v, equal %v", mode, err, bytes.Equal(got, p))
	}
}
