package qr

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/offpay/offpay/internal/base45"
)

// Multi-frame layout; see FORMAT.md.
const (
	idLen     = 8         // message id: the first 8 bytes of SHA-256(message)
	headerLen = idLen + 2 // id, index, total
	MaxFrames = 255       // frames per message
	minChunk  = 1         // payload bytes per frame, at least
	maxChunk  = MaxTextLen / 3 * 2
)

// Split cuts msg into multi-frame QR texts of at most maxTextLen characters each, all
// frames but the last carrying the same number of message bytes. It fails when msg is
// empty, when maxTextLen cannot hold a frame header and one byte, or when more than
// MaxFrames frames would be needed.
func Split(msg []byte, maxTextLen int) ([]string, error) {
	if len(msg) == 0 {
		return nil, errors.New("qr: Split of an empty message")
	}
	maxTextLen = min(maxTextLen, MaxTextLen)
	// Largest chunk c with len(MultiPrefix)+EncodedLen(headerLen+c) <= maxTextLen.
	room := maxTextLen - len(MultiPrefix)
	c := room/3*2 + room%3/2 - headerLen
	if c < minChunk {
		return nil, fmt.Errorf("qr: maxTextLen %d too small for a frame", maxTextLen)
	}
	n := (len(msg) + c - 1) / c
	if n > MaxFrames {
		return nil, fmt.Errorf("%w: %d bytes need %d frames, more than %d", ErrTooLarge, len(msg), n, MaxFrames)
	}
	c = (len(msg) + n - 1) / n // balance the frames
	sum := sha256.Sum256(msg)
	frames := make([]string, 0, n)
	buf := make([]byte, headerLen+c)
	copy(buf, sum[:idLen])
	for i := range n {
		chunk := msg[i*c : min((i+1)*c, len(msg))]
		buf[idLen], buf[idLen+1] = byte(i), byte(n)
		frames = append(frames, MultiPrefix+base45.Encode(append(buf[:headerLen], chunk...)))
	}
	return frames, nil
}

// Progress says how far an Assembler has got.
type Progress struct {
	Have, Total int // distinct frames received, and frames in the message (0 before any)
}

func (p Progress) String() string { return fmt.Sprintf("%d/%d", p.Have, p.Total) }

// Complete reports whether every frame has been received.
func (p Progress) Complete() bool { return p.Total > 0 && p.Have == p.Total }

// An Assembler rebuilds a message from its QR texts, received in any order. Duplicates are
// ignored. It also accepts a single-frame text, which completes it at once, so a scanner
// can feed it whatever it reads. The zero value is ready to use; it is not safe for
// concurrent use.
type Assembler struct {
	id     [idLen]byte
	total  int
	chunk  int // length of every chunk but the last; 0 until a non-last chunk is seen
	have   int
	chunks [][]byte
	done   []byte
}

// Add adds one QR text. A text that does not belong to the message in progress gives
// ErrOtherMessage and leaves the Assembler unchanged (call Reset to start on the new
// message); a malformed frame gives ErrCorrupt or ErrNotOffpay, also changing nothing.
// When the last frame completes a message whose SHA-256 does not match its id (frames of
// two messages with one id), Add gives ErrCorrupt and the Assembler starts again.
func (a *Assembler) Add(text string) (Progress, error) {
	text = trim(text)
	if len(text) > MaxTextLen {
		return a.Progress(), fmt.Errorf("%w: %d characters", ErrTooLarge, len(text))
	}
	if strings.HasPrefix(text, SinglePrefix) {
		return a.addSingle(text)
	}
	body, ok := strings.CutPrefix(text, MultiPrefix)
	if !ok {
		return a.Progress(), ErrNotOffpay
	}
	raw, err := base45.Decode(body)
	if err != nil {
		return a.Progress(), fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(raw) < headerLen+minChunk {
		return a.Progress(), fmt.Errorf("%w: frame of %d bytes", ErrCorrupt, len(raw))
	}
	id, index, total := [idLen]byte(raw[:idLen]), int(raw[idLen]), int(raw[idLen+1])
	chunk := raw[headerLen:]
	if total == 0 || index >= total {
		return a.Progress(), fmt.Errorf("%w: frame %d of %d", ErrCorrupt, index, total)
	}
	if a.total == 0 {
		a.id, a.total, a.chunks = id, total, make([][]byte, total)
	} else if id != a.id || total != a.total {
		return a.Progress(), ErrOtherMessage
	}
	if a.done != nil { // a frame of the finished message, still on screen
		return a.Progress(), nil
	}
	if prev := a.chunks[index]; prev != nil {
		if !bytes.Equal(prev, chunk) {
			return a.Progress(), fmt.Errorf("%w: frame %d differs from its earlier copy", ErrCorrupt, index)
		}
		return a.Progress(), nil
	}
	if err := a.checkLen(index, len(chunk)); err != nil {
		return a.Progress(), err
	}
	if index < total-1 {
		a.chunk = len(chunk)
	}
	a.chunks[index] = chunk
	a.have++
	if a.have == a.total {
		return a.finish()
	}
	return a.Progress(), nil
}

// checkLen enforces the Split invariant: all chunks but the last have one length, and the
// last is no longer.
func (a *Assembler) checkLen(index, n int) error {
	want := a.chunk
	if want == 0 { // no non-last chunk yet; the last one may have arrived
		if index < a.total-1 {
			if last := a.chunks[a.total-1]; last != nil && len(last) > n {
				return fmt.Errorf("%w: frame %d shorter than the last frame", ErrCorrupt, index)
			}
		}
		return nil
	}
	if index < a.total-1 && n != want || index == a.total-1 && n > want {
		return fmt.Errorf("%w: frame %d has %d bytes, others %d", ErrCorrupt, index, n, want)
	}
	return nil
}

func (a *Assembler) finish() (Progress, error) {
	msg := bytes.Join(a.chunks, nil)
	if sum := sha256.Sum256(msg); !bytes.Equal(sum[:idLen], a.id[:]) {
		// Frames with one id but from different messages; start again.
		a.Reset()
		return a.Progress(), fmt.Errorf("%w: reassembled message does not match its id", ErrCorrupt)
	}
	a.done, a.chunks = msg, nil
	return a.Progress(), nil
}

func (a *Assembler) addSingle(text string) (Progress, error) {
	if a.total != 0 {
		if a.done != nil && EncodeText(a.done) == text {
			return a.Progress(), nil
		}
		return a.Progress(), ErrOtherMessage
	}
	msg, err := DecodeText(text)
	if err != nil {
		return a.Progress(), err
	}
	a.total, a.have, a.done = 1, 1, msg
	return a.Progress(), nil
}

// Progress returns how many frames have been received.
func (a *Assembler) Progress() Progress {
	return Progress{Have: a.have, Total: a.total}
}

// Done returns the message once every frame has been added.
func (a *Assembler) Done() ([]byte, bool) {
	return a.done, a.done != nil
}

// Reset forgets everything added so far.
func (a *Assembler) Reset() { *a = Assembler{} }
