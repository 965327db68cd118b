// Package link defines the frame link under an offpay channel, and two links: an in-process
// emulator with Bluetooth LE timing, and TCP for demos between processes.
package link

import (
	"context"
	"errors"
)

// A Conn is a reliable, ordered link of frames of at most MTU bytes, like a Bluetooth LE
// GATT connection. Frames are opaque; a link never parses them. Send and Recv may be
// called concurrently with each other, and Close with both.
type Conn interface {
	// Send queues one frame of at most MTU bytes. A frame longer than MTU gives
	// ErrFrameTooLarge and leaves the link usable.
	Send(ctx context.Context, frame []byte) error
	// Recv returns the next frame. The caller owns the returned slice.
	Recv(ctx context.Context) ([]byte, error)
	// MTU returns the largest frame the link carries, in bytes.
	MTU() int
	// Close ends the link. The peer's operations then fail with ErrDisconnected.
	Close() error
}

// Errors returned by links. Match them with errors.Is: returned errors may wrap them.
var (
	// ErrDisconnected: the link dropped or the peer closed it. It does not come back;
	// open a new one.
	ErrDisconnected = errors.New("link: disconnected")
	// ErrClosed: this end was closed with Close.
	ErrClosed = errors.New("link: use of closed link")
	// ErrFrameTooLarge: a frame exceeded the MTU. On Send the link stays usable; on
	// receipt from a peer the link is closed, as the peer breaks the framing contract.
	ErrFrameTooLarge = errors.New("link: frame larger than MTU")
)
