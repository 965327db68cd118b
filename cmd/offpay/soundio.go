package main

import (
	"bytes"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/offpay/offpay/transport/sound"
)

// soundOut is a command's --sound-out flag and its modulation: the code as a WAV file
// (transport/sound), for a phone with no camera or Bluetooth to take it by ear.
type soundOut struct {
	path *string
	mode *string
	rate *int
	m    sound.Mode
	// perCode: a %d in the path is the code's number (pos run, like --pairing-out).
	perCode bool
}

func addSoundOut(fs *flag.FlagSet, what string) *soundOut {
	return &soundOut{
		path: fs.String("sound-out", "", "write "+what+" as sound: a WAV file to play to the other phone (transport/sound)"),
		mode: fs.String("sound-mode", "ultrasonic", "the sound's modulation: ultrasonic (17-20 kHz, near-inaudible) or audible (Bell 202, 1200 baud, as minimodem reads it)"),
		rate: fs.Int("sound-rate", sound.DefaultRate, "the WAV file's sample rate in Hz"),
	}
}

// check validates the flags before anything acts: the mode, the rate for that mode,
// and that the file can be written.
func (s *soundOut) check() error {
	if *s.path == "" {
		return nil
	}
	m, err := sound.ParseMode(*s.mode)
	if err != nil {
		return usageErrorf("--sound-mode: %v", err)
	}
	lo := 8000
	if m == sound.Ultrasonic {
		lo = sound.MinUltrasonicRate
	}
	if *s.rate < lo || *s.rate > 192000 {
		return usageErrorf("--sound-rate %d: the %s mode needs %d to 192000 Hz", *s.rate, m, lo)
	}
	if err := writable(s.numbered(1)); err != nil {
		return usageErrorf("cannot write %s: %v", s.numbered(1), err)
	}
	s.m = m
	return nil
}

// write writes msg as sound, if asked.
func (s *soundOut) write(msg []byte) error {
	if *s.path == "" {
		return nil
	}
	return s.writeTo(*s.path, msg)
}

// numbered is the path with a %d in it replaced by n, for perCode.
func (s *soundOut) numbered(n int) string {
	if s.perCode && strings.Contains(*s.path, "%d") {
		return strings.Replace(*s.path, "%d", strconv.Itoa(n), 1)
	}
	return *s.path
}

func (s *soundOut) writeTo(path string, msg []byte) error {
	var b bytes.Buffer
	if err := sound.EncodeWAV(&b, msg, s.m, *s.rate); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}

// checkCodeOutputs is checkOutputs with --sound-out as a third place the code may go.
func checkCodeOutputs(pngFlag, png, text string, snd *soundOut) error {
	if *snd.path == "" || png != "" || text != "" {
		if err := checkOutputs(pngFlag, png, text); err != nil {
			if *snd.path == "" && png == "" && text == "" {
				return usageErrorf("%v, or --sound-out FILE.wav", err)
			}
			return err
		}
	}
	return snd.check()
}

// writeCode writes msg to each place asked: a QR code PNG, its text form, its sound.
func writeCode(e *env, msg []byte, png, text string, snd *soundOut) error {
	if png != "" || text != "" {
		if err := writeMessage(e, msg, png, text); err != nil {
			return err
		}
	}
	return snd.write(msg)
}

// codeName names where a code went, for the message about it (outName, and the sound).
func codeName(png, text string, snd *soundOut, msg []byte) string {
	var where []string
	if png != "" || text != "" {
		where = append(where, outName(png, text))
	}
	if *snd.path != "" {
		where = append(where, fmt.Sprintf("%s (%s sound, %.1f s)", *snd.path, snd.m, sound.Duration(len(msg), snd.m)))
	}
	return strings.Join(where, " and ")
}

// readSound reads a message from a WAV recording (- for stdin).
func readSound(e *env, path string) ([]byte, error) {
	data, err := readInput(e, path)
	if err != nil {
		return nil, err
	}
	if !sound.IsWAV(data) {
		return nil, usageErrorf("--sound-in %s: not a WAV file", path)
	}
	return decodeSound(path, data)
}

func decodeSound(path string, data []byte) ([]byte, error) {
	msg, _, err := sound.DecodeWAV(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return msg, nil
}
