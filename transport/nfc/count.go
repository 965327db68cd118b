package nfc

import "sync/atomic"

// Transmitter is what se/card speaks through: one command APDU out, one
// response APDU back.
type Transmitter interface {
	Transmit(cmd []byte) ([]byte, error)
}

// Counter counts the APDUs and the bytes a tap puts on the wire (command
// and response APDUs, status words included; not the reader's own
// framing).
type Counter struct {
	T        Transmitter
	APDUs    atomic.Uint64
	Sent     atomic.Uint64
	Received atomic.Uint64
}

// Transmit implements Transmitter.
func (c *Counter) Transmit(cmd []byte) ([]byte, error) {
	c.APDUs.Add(1)
	c.Sent.Add(uint64(len(cmd)))
	r, err := c.T.Transmit(cmd)
	c.Received.Add(uint64(len(r)))
	return r, err
}
