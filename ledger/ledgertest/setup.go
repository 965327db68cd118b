package ledgertest

import (
	"context"
	"time"

	"github.com/offpay/offpay/ledger"
)

// PayerAndShop opens the accounts "alice", with deposit on it, and
// "shop", a merchant, on svc, enrols a device on each (labelled label+"-a"
// and label+"-m", their clocks at the present) and loads the whole
// deposit into alice's device's purse: a payer and a shop ready to trade
// offline.
func PayerAndShop(ctx context.Context, svc *ledger.Service, label string, deposit uint64) (a, m *Device, err error) {
	for _, name := range []string{"alice", "shop"} {
		if _, err := svc.CreateAccount(ctx, name, name == "shop"); err != nil {
			return nil, nil, err
		}
	}
	if _, err := svc.Deposit(ctx, "alice", int64(deposit), "d"); err != nil {
		return nil, nil, err
	}
	a, m = NewDevice(label+"-a", svc.Currency()), NewDevice(label+"-m", svc.Currency())
	now := uint64(time.Now().Unix())
	for _, e := range []struct {
		d       *Device
		account string
	}{{a, "alice"}, {m, "shop"}} {
		e.d.Time = now
		en, err := svc.Enrol(ctx, e.d.Enrolment(e.account))
		if err != nil {
			return nil, nil, err
		}
		e.d.Cert = en.Device
	}
	l, err := svc.Reserve(ctx, a.Reserve(deposit, 1))
	if err != nil {
		return nil, nil, err
	}
	a.ApplyLoad(l)
	return a, m, nil
}
