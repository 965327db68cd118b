package channel

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/offpay/offpay/transport/link"
)

// Link frame kinds; see doc.go for the layout.
const (
	kindCont      = 0x00 // continuation of the record in progress
	kindHandshake = 0x01 // first frame of a handshake record
	kindData      = 0x02 // first frame of an encrypted data record
	kindReject    = 0x03 // first frame of a handshake rejection (one code byte)
)

const (
	startHdrLen = 4 // kind, 3-byte record length
	minMTU      = startHdrLen + 1
	tagLen      = 16
	// maxRecord bounds data records: Noise's 65535-byte message limit.
	maxRecord = MaxMessage + tagLen
	// maxHandshakeRecord bounds handshake and reject records.
	maxHandshakeRecord = 256
)

// writeRecord sends body as one record of the given kind, cut to the link's MTU.
func writeRecord(ctx context.Context, c link.Conn, kind byte, body []byte) error {
	mtu := c.MTU()
	if mtu < minMTU {
		return fmt.Errorf("channel: link MTU %d below %d", mtu, minMTU)
	}
	if len(body) > maxRecord || len(body) >= 1<<24 {
		return fmt.Errorf("%w: record of %d bytes", ErrTooLarge, len(body))
	}
	frame := make([]byte, 0, mtu)
	frame = append(frame, kind, byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
	for {
		n := min(mtu-len(frame), len(body))
		frame = append(frame, body[:n]...)
		body = body[n:]
		if err := c.Send(ctx, frame); err != nil {
			return err
		}
		if len(body) == 0 {
			return nil
		}
		frame = append(frame[:0], kindCont)
	}
}

// reader reassembles records from link frames. A malformed frame gives ErrCorrupt or
// ErrTooLarge and the reader stays usable: it drops the record in progress and, after an
// oversize header, skips that record's continuation frames.
type reader struct {
	c     link.Conn
	limit int // largest record accepted
	kind  byte
	want  int // bytes of the record in progress still to come
	buf   []byte
	skip  int // bytes of an oversize record still to skip
}

// read returns the next whole record.
func (r *reader) read(ctx context.Context) (kind byte, body []byte, err error) {
	for {
		f, err := r.c.Recv(ctx)
		if err != nil {
			return 0, nil, err
		}
		kind, body, done, err := r.add(f)
		if err != nil || done {
			return kind, body, err
		}
	}
}

// add takes one link frame; done reports a completed record.
func (r *reader) add(f []byte) (kind byte, body []byte, done bool, err error) {
	if len(f) == 0 {
		return 0, nil, false, fmt.Errorf("%w: empty frame", ErrCorrupt)
	}
	if f[0] == kindCont {
		switch {
		case r.skip > 0:
			r.skip -= min(r.skip, len(f)-1)
			return 0, nil, false, nil
		case r.want == 0:
			return 0, nil, false, fmt.Errorf("%w: continuation without a record", ErrCorrupt)
		case len(f)-1 > r.want:
			r.reset()
			return 0, nil, false, fmt.Errorf("%w: frame overruns its record", ErrCorrupt)
		}
		r.buf = append(r.buf, f[1:]...)
		r.want -= len(f) - 1
		return r.complete()
	}
	// A new record drops any record in progress: on a reliable link only an injector
	// interrupts one, and the AEAD refuses what it spliced.
	r.reset()
	if f[0] > kindReject || len(f) < startHdrLen {
		return 0, nil, false, fmt.Errorf("%w: bad frame header %#x", ErrCorrupt, f[0])
	}
	n := int(f[1])<<16 | int(binary.BigEndian.Uint16(f[2:4]))
	data := f[startHdrLen:]
	if n > r.limit {
		r.skip = max(0, n-len(data))
		return 0, nil, false, fmt.Errorf("%w: record of %d bytes", ErrTooLarge, n)
	}
	if len(data) > n {
		return 0, nil, false, fmt.Errorf("%w: frame overruns its record", ErrCorrupt)
	}
	r.kind, r.want = f[0], n-len(data)
	r.buf = append(make([]byte, 0, min(n, 4096)), data...)
	return r.complete()
}

func (r *reader) complete() (byte, []byte, bool, error) {
	if r.want > 0 {
		return 0, nil, false, nil
	}
	kind, body := r.kind, r.buf
	r.reset()
	return kind, body, true, nil
}

func (r *reader) reset() { r.kind, r.want, r.buf, r.skip = 0, 0, nil, 0 }
