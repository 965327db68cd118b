// Package pcsc is the adapter of the PC/SC client library (pcsc-lite's
// libpcsclite.so.1, loaded at run time with dlopen, through cgo): a
// context on the pcscd daemon, its readers, a card connection and
// SCardTransmit. Without cgo, or without the library, New returns
// ErrUnavailable.
package pcsc

import (
	"errors"
	"fmt"
)

// ErrUnavailable: this build or machine has no PC/SC client library.
var ErrUnavailable = errors.New("pcsc: no PC/SC client library (libpcsclite.so.1) in this build or on this machine")

// Error is a PC/SC return code other than SCARD_S_SUCCESS.
type Error struct {
	Op   string
	Code uint32
	Text string // pcsc_stringify_error's
}

func (e *Error) Error() string {
	return fmt.Sprintf("pcsc: %s: %s (0x%08X)", e.Op, e.Text, e.Code)
}

// Is matches an *Error on Code alone, so errors.Is(err, ErrRemoved) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The return codes callers act on (pcsc-lite's pcsclite.h).
var (
	ErrNoCard      = &Error{Code: 0x8010000C} // SCARD_E_NO_SMARTCARD
	ErrRemoved     = &Error{Code: 0x80100069} // SCARD_W_REMOVED_CARD
	ErrReset       = &Error{Code: 0x80100068} // SCARD_W_RESET_CARD
	ErrNoService   = &Error{Code: 0x8010001D} // SCARD_E_NO_SERVICE
	ErrNoReaders   = &Error{Code: 0x8010002E} // SCARD_E_NO_READERS_AVAILABLE
	ErrUnknownRdr  = &Error{Code: 0x80100009} // SCARD_E_UNKNOWN_READER
	ErrUnavailRdr  = &Error{Code: 0x80100017} // SCARD_E_READER_UNAVAILABLE
	ErrNotTransact = &Error{Code: 0x80100016} // SCARD_E_NOT_TRANSACTED
	ErrCommError   = &Error{Code: 0x80100013} // SCARD_F_COMM_ERROR
	ErrUnpowered   = &Error{Code: 0x80100067} // SCARD_W_UNPOWERED_CARD
)

// Gone reports whether err means the card left the reader (or was reset
// under us): the connection must be made again.
func Gone(err error) bool {
	for _, e := range []error{ErrRemoved, ErrReset, ErrNoCard, ErrUnpowered, ErrNotTransact, ErrCommError, ErrUnavailRdr} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
