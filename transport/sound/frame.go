package sound

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"

	"github.com/klauspost/reedsolomon"
)

// The frame, the same bytes in every mode (FORMAT in doc.go):
//
//	header, three copies:  tag 0xB0|copy (1) || payload length (2) || CRC-16 (2)
//	shards:                k data and m parity shards, each ShardSize bytes || CRC-16 (2)
//
// The data shards hold payload || CRC-32 (IEEE) of the payload, zero-padded.
const (
	ShardSize    = 16   // bytes of data in a shard
	MaxPayload   = 2048 // longest payload a frame carries
	headerLen    = 5
	headerCopies = 3
	shardLen     = ShardSize + 2
)

// Errors of decoding. Match them with errors.Is; a decoder never returns wrong bytes
// without one of them: every shard and the whole payload carry CRCs.
var (
	// ErrNoSignal: no preamble (or, for audible audio, no frame header) was found.
	ErrNoSignal = errors.New("sound: no signal found")
	// ErrDamaged: a frame was found but too much of it was lost to noise for the
	// error correction to restore it.
	ErrDamaged = errors.New("sound: frame too damaged to correct")
	// ErrCorrupt: the error correction produced bytes whose CRC-32 does not match.
	ErrCorrupt = errors.New("sound: payload fails its CRC")
	// ErrTooLarge: a payload longer than MaxPayload.
	ErrTooLarge = errors.New("sound: payload too large")
)

var crc16tab = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return
}()

// crc16 is CRC-16/CCITT-FALSE of seed bytes then b.
func crc16(seed []byte, b []byte) uint16 {
	c := uint16(0xFFFF)
	for _, s := range [][]byte{seed, b} {
		for _, v := range s {
			c = c<<8 ^ crc16tab[byte(c>>8)^v]
		}
	}
	return c
}

var headerSeed = []byte("offpay/sound/v1 header")

func shardSeed(i int) []byte { return []byte{'o', 'p', 's', 'd', byte(i)} }

// layout is the number of data and parity shards for a payload of n bytes.
func layout(n int) (k, m int) {
	k = (n + 4 + ShardSize - 1) / ShardSize
	m = max(2, (k+1)/2)
	return k, m
}

// FrameLen is the length in bytes (one byte a symbol) of the frame of an n-byte payload.
func FrameLen(n int) int {
	k, m := layout(n)
	return headerLen*headerCopies + (k+m)*shardLen
}

// Frame returns the frame carrying payload.
func Frame(payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), MaxPayload)
	}
	k, m := layout(len(payload))
	out := make([]byte, 0, FrameLen(len(payload)))
	for c := range headerCopies {
		h := []byte{0xB0 | byte(c), byte(len(payload) >> 8), byte(len(payload))}
		out = binary.BigEndian.AppendUint16(append(out, h...), crc16(headerSeed, h[1:3]))
	}
	data := make([]byte, (k+m)*ShardSize)
	copy(data, payload)
	binary.BigEndian.PutUint32(data[len(payload):], crc32.ChecksumIEEE(payload))
	shards := make([][]byte, k+m)
	for i := range shards {
		shards[i] = data[i*ShardSize : (i+1)*ShardSize]
	}
	enc, err := reedsolomon.New(k, m)
	if err != nil {
		return nil, err
	}
	if err := enc.Encode(shards); err != nil {
		return nil, err
	}
	for i, s := range shards {
		out = binary.BigEndian.AppendUint16(append(out, s...), crc16(shardSeed(i), s))
	}
	return out, nil
}

// rxByte is a received byte and, for soft decoding, the next likeliest values with the
// demodulator's confidence in the byte as received against each (lower: less sure).
type rxByte struct {
	v    byte
	alts []alt
}

type alt struct {
	v    byte
	cost float64
}

func hard(b []byte) []rxByte {
	r := make([]rxByte, len(b))
	for i, v := range b {
		r[i].v = v
	}
	return r
}

// Unframe decodes a frame received without soft information, such as the bytes another
// modem (minimodem) printed. The frame may start anywhere in b.
func Unframe(b []byte) ([]byte, error) {
	rx := hard(b)
	start, ok := findHeader(rx)
	if !ok {
		return nil, ErrNoSignal
	}
	return unframe(rx[start:])
}

// findHeader is the start of the first frame in rx whose header has a copy that
// checks.
func findHeader(rx []rxByte) (int, bool) {
	for p := 0; p+headerLen <= len(rx); p++ {
		if c, _, ok := headerAt(rx, p); ok && p >= c*headerLen {
			return p - c*headerLen, true
		}
	}
	return 0, false
}

// headerAt checks a header copy at p: its copy number and the payload length.
func headerAt(rx []rxByte, p int) (int, int, bool) {
	if p < 0 || p+headerLen > len(rx) {
		return 0, 0, false
	}
	h, ok := chase(rx[p:p+headerLen], headerChecks)
	if !ok {
		return 0, 0, false
	}
	n := int(binary.BigEndian.Uint16(h[1:]))
	if n > MaxPayload {
		return 0, 0, false
	}
	return int(h[0] & 0x0F), n, true
}

func headerChecks(h []byte) bool {
	return h[0]&0xF0 == 0xB0 && int(h[0]&0x0F) < headerCopies && crc16(headerSeed, h[1:3]) == binary.BigEndian.Uint16(h[3:]) &&
		int(binary.BigEndian.Uint16(h[1:])) <= MaxPayload
}

// votedHeader is the payload length from the three copies voted byte by byte (their
// tags differ; the rest is the same), if the vote checks.
func votedHeader(rx []rxByte) (int, bool) {
	if len(rx) < headerLen*headerCopies {
		return 0, false
	}
	h := []byte{0xB0}
	for j := 1; j < headerLen; j++ {
		a, b, c := rx[j].v, rx[headerLen+j].v, rx[2*headerLen+j].v
		h = append(h, a&b|a&c|b&c) // bitwise majority
	}
	if !headerChecks(h) {
		return 0, false
	}
	return int(binary.BigEndian.Uint16(h[1:])), true
}

// payloadLen is the payload length a frame's header gives: from the first copy that
// checks, or from the copies' vote.
func payloadLen(rx []rxByte) (int, bool) {
	for c := range headerCopies {
		if cc, n, ok := headerAt(rx, c*headerLen); ok && cc == c {
			return n, true
		}
	}
	return votedHeader(rx)
}

// unframe decodes the frame at the start of rx. Bytes missing at the end (a recording
// cut short) count as lost shards.
func unframe(rx []rxByte) ([]byte, error) {
	n, ok := payloadLen(rx)
	if !ok {
		return nil, fmt.Errorf("%w: no copy of the header checks", ErrDamaged)
	}
	k, m := layout(n)
	shards := make([][]byte, k+m)
	good := 0
	base := headerLen * headerCopies
	for i := range shards {
		p := base + i*shardLen
		if p+shardLen > len(rx) {
			break
		}
		if s, ok := checkShard(rx[p:p+shardLen], i); ok {
			shards[i] = s
			good++
		}
	}
	if good < k {
		return nil, fmt.Errorf("%w: %d of %d shards received, %d needed", ErrDamaged, good, k+m, k)
	}
	enc, err := reedsolomon.New(k, m)
	if err != nil {
		return nil, err
	}
	if err := enc.ReconstructData(shards); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	data := make([]byte, 0, k*ShardSize)
	for _, s := range shards[:k] {
		data = append(data, s...)
	}
	payload := data[:n]
	if binary.BigEndian.Uint32(data[n:]) != crc32.ChecksumIEEE(payload) {
		return nil, ErrCorrupt
	}
	return payload, nil
}

// chaseTries is how many of a shard's least sure symbols soft decoding revisits: each
// alone and each pair.
const chaseTries = 4

// checkShard returns the shard's data if its CRC checks (chase).
func checkShard(rx []rxByte, i int) ([]byte, bool) {
	b, ok := chase(rx, func(b []byte) bool {
		return crc16(shardSeed(i), b[:ShardSize]) == binary.BigEndian.Uint16(b[ShardSize:])
	})
	if !ok {
		return nil, false
	}
	return b[:ShardSize], true
}

// chase returns the bytes of rx if check accepts them as received or, failing that,
// with one or two of their least sure bytes replaced by their next likeliest value
// (Chase decoding). A wrong shard that passes its CRC-16 this way is still caught by
// the payload's CRC-32.
func chase(rx []rxByte, check func([]byte) bool) ([]byte, bool) {
	b := make([]byte, len(rx))
	for j, r := range rx {
		b[j] = r.v
	}
	if check(b) {
		return b, true
	}
	type cand struct {
		pos  int
		v    byte
		cost float64
	}
	var cs []cand
	for j, r := range rx {
		for _, a := range r.alts {
			cs = append(cs, cand{j, a.v, a.cost})
		}
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].cost < cs[b].cost })
	cs = cs[:min(len(cs), chaseTries)]
	for x := range cs {
		old := b[cs[x].pos]
		b[cs[x].pos] = cs[x].v
		if check(b) {
			return b, true
		}
		for y := x + 1; y < len(cs); y++ {
			if cs[y].pos == cs[x].pos {
				continue
			}
			old2 := b[cs[y].pos]
			b[cs[y].pos] = cs[y].v
			if check(b) {
				return b, true
			}
			b[cs[y].pos] = old2
		}
		b[cs[x].pos] = old
	}
	return nil, false
}
