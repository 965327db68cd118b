package ledger

import (
	"context"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// DeviceCertificate returns the current certificate of an enrolled device,
// or an EUNAUTHORIZED error if no device has that key. Its key is the one
// every request of the device is signed with (renewals keep the key), so
// a server can check who sent a request before it decodes it or charges
// the device for it. The certificate may be shared: do not modify it.
func (s *Service) DeviceCertificate(ctx context.Context, id protocol.KeyID) (*protocol.Certificate, error) {
	s.mu.RLock()
	d := s.certs[id]
	s.mu.RUnlock()
	if d == nil {
		err := s.view(ctx, func(tx Tx) (err error) {
			d, err = s.device(ctx, tx, id)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if d == nil || isForeign(d.account) { // a mirror (federation.go) signs nothing here
		return nil, offpay.Errorf(offpay.EUNAUTHORIZED, "device %v is not enrolled", id)
	}
	return d.cert, nil
}
