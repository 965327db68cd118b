//go:build !cgo

package pcsc

// Context is a connection to the pcscd daemon; without cgo there is none.
type Context struct{}

// New returns ErrUnavailable: this build cannot load libpcsclite.
func New() (*Context, error) { return nil, ErrUnavailable }

// Close does nothing.
func (c *Context) Close() error { return nil }

// Readers returns ErrUnavailable.
func (c *Context) Readers() ([]string, error) { return nil, ErrUnavailable }

// Connect returns ErrUnavailable.
func (c *Context) Connect(reader string) (*Card, error) { return nil, ErrUnavailable }

// Card is a card connection; without cgo there is none.
type Card struct{}

// Reader returns "".
func (k *Card) Reader() string { return "" }

// Reconnect returns ErrUnavailable.
func (k *Card) Reconnect() error { return ErrUnavailable }

// Transmit returns ErrUnavailable.
func (k *Card) Transmit(cmd []byte) ([]byte, error) { return nil, ErrUnavailable }

// Close does nothing.
func (k *Card) Close() error { return nil }
