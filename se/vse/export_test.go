package vse

import "github.com/offpay/offpay/protocol"

// FillLogForTest appends n receive entries carrying b (with distinct
// accepted keys) and commits once, so a test can reach a large log
// without n writes of a growing file.
func (v *VSE) FillLogForTest(b *protocol.PaymentBundle, n int) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	body := b.Marshal()
	for i := 0; i < n; i++ {
		if err := v.appendEntry(protocol.EntryReceive, b.Payment.Time, body); err != nil {
			return err
		}
		var k protocol.KeyID
		copy(k[:], v.s.Head[:])
		v.s.Accepted[acceptKey(k, uint64(i))] = b.Payment.Time + 3600
	}
	return v.commit()
}
