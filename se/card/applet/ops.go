package applet

import (
	"fmt"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/vse"
)

// badData is a data field that is not the command's CBOR (SW 6A80).
type badData struct{ err error }

func (e *badData) Error() string { return "data field: " + e.err.Error() }

// args decodes a command's data field into v, strictly: one canonical
// CBOR item of the command's shape and nothing after it.
func args(data []byte, v any) error {
	if err := apdu.Dec.Unmarshal(data, v); err != nil {
		return &badData{err}
	}
	again, err := apdu.Enc.Marshal(v)
	if err != nil || string(again) != string(data) {
		return &badData{fmt.Errorf("not the canonical encoding")}
	}
	return nil
}

// msg decodes a protocol message the card was handed: a refusal the SE
// would have given (se.CodeProtocol or the class's code) if it fails.
func msg(b []byte, m protocol.Message) error {
	return se.FromProtocol(protocol.Unmarshal(b, m))
}

func enc(v any) ([]byte, error) { return apdu.Enc.Marshal(v) }

type op func(v *vse.VSE, data []byte) ([]byte, error)

var ops = map[byte]op{
	apdu.InsEnrol: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.EnrolArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		r, err := v.Enrol(a.Account, a.Now)
		return marshal(r, err)
	},
	apdu.InsInstall: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.InstallArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		dev, rl := new(protocol.Certificate), new(protocol.RevocationList)
		if err := msg(a.Cert, dev); err != nil {
			return nil, err
		}
		if err := msg(a.RevList, rl); err != nil {
			return nil, err
		}
		var anc se.Anchors
		for _, b := range a.Roots {
			c := new(protocol.Certificate)
			if err := msg(b, c); err != nil {
				return nil, err
			}
			anc.Roots = append(anc.Roots, c)
		}
		for _, b := range a.Issuers {
			c := new(protocol.Certificate)
			if err := msg(b, c); err != nil {
				return nil, err
			}
			anc.Issuers = append(anc.Issuers, c)
		}
		return nil, v.Install(dev, anc, rl)
	},
	apdu.InsApplyLoad: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.MessageArgs
		l := new(protocol.Load)
		if err := message(d, &a, l); err != nil {
			return nil, err
		}
		return nil, v.ApplyLoad(l)
	},
	apdu.InsReserve: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.ReserveArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		r, err := v.Reserve(a.Amount, a.ID, a.Now)
		return marshal(r, err)
	},
	apdu.InsNewRequest: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.RequestArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		r, err := v.NewRequest(a.Params(), a.Now)
		return marshal(r, err)
	},
	apdu.InsStanding: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.RequestArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		r, err := v.StandingRequest(a.Params(), a.Now)
		return marshal(r, err)
	},
	apdu.InsPay: func(v *vse.VSE, d []byte) ([]byte, error) {
		a, req, err := payArgs(d)
		if err != nil {
			return nil, err
		}
		b, err := v.Pay(req, a.Amount, a.Now)
		return marshal(b, err)
	},
	apdu.InsPayOnline: func(v *vse.VSE, d []byte) ([]byte, error) {
		a, req, err := payArgs(d)
		if err != nil {
			return nil, err
		}
		p, err := v.PayOnline(req, a.Amount, a.Now)
		return marshal(p, err)
	},
	apdu.InsReceive: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.MessageArgs
		b := new(protocol.PaymentBundle)
		if err := message(d, &a, b); err != nil {
			return nil, err
		}
		r, err := v.Receive(b, a.Now)
		return marshal(r, err)
	},
	apdu.InsConfirmReceipt: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.MessageArgs
		r := new(protocol.Receipt)
		if err := message(d, &a, r); err != nil {
			return nil, err
		}
		return nil, v.ConfirmReceipt(r, a.Now)
	},
	apdu.InsRefund: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.RefundArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		b, err := v.Refund(a.Sale, a.Amount, a.Now)
		return marshal(b, err)
	},
	apdu.InsRedeem: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.AmountArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		r, err := v.Redeem(a.Amount, a.Now)
		return marshal(r, err)
	},
	apdu.InsSyncUpload: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.SinceArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		u, err := v.SyncUpload(a.Since, a.Now)
		return marshal(u, err)
	},
	apdu.InsApplySync: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.MessageArgs
		r := new(protocol.SyncResult)
		if err := message(d, &a, r); err != nil {
			return nil, err
		}
		return nil, v.ApplySyncResult(r)
	},
	apdu.InsSealData: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.DataArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		return v.SealData(a.Label, a.Data)
	},
	apdu.InsOpenData: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.DataArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		return v.OpenData(a.Label, a.Data)
	},
	apdu.InsStatus: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.NowArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		s, err := v.Status(a.Now)
		if err != nil {
			return nil, err
		}
		return enc(s)
	},
	apdu.InsCertificate: func(v *vse.VSE, d []byte) ([]byte, error) {
		if len(d) != 0 {
			return nil, &badData{fmt.Errorf("GET CERTIFICATE takes no data")}
		}
		c := v.Certificate()
		if c == nil {
			return nil, nil
		}
		return c.Marshal(), nil
	},
	apdu.InsLog: func(v *vse.VSE, d []byte) ([]byte, error) {
		var a apdu.SinceArgs
		if err := args(d, &a); err != nil {
			return nil, err
		}
		es, err := v.Log(a.Since)
		if err != nil {
			return nil, err
		}
		out := make([][]byte, len(es))
		for i := range es {
			out[i] = es[i].Marshal()
		}
		return enc(out)
	},
	apdu.InsNewUnlockCode: func(v *vse.VSE, d []byte) ([]byte, error) {
		if len(d) != 0 {
			return nil, &badData{fmt.Errorf("NEW UNLOCK CODE takes no data")}
		}
		code, err := v.NewUnlockCode()
		return []byte(code), err
	},
	apdu.InsPending: func(v *vse.VSE, d []byte) ([]byte, error) {
		if len(d) != 0 {
			return nil, &badData{fmt.Errorf("PENDING takes no data")}
		}
		ps, err := v.Pending()
		if err != nil {
			return nil, err
		}
		out := make([]apdu.PendingItem, len(ps))
		for i, p := range ps {
			out[i] = apdu.PendingItem{ID: p.ID, Payee: p.Payee, Amount: p.Amount, Counter: p.Counter}
		}
		return enc(out)
	},
	apdu.InsSales: func(v *vse.VSE, d []byte) ([]byte, error) {
		if len(d) != 0 {
			return nil, &badData{fmt.Errorf("SALES takes no data")}
		}
		ss, err := v.Sales()
		if err != nil {
			return nil, err
		}
		out := make([]apdu.SaleItem, len(ss))
		for i, s := range ss {
			out[i] = apdu.SaleItem{ID: s.ID, Payer: s.Payer, Amount: s.Amount, Time: s.Time, Until: s.Until, Refunded: s.Refunded, RefundID: s.RefundID}
		}
		return enc(out)
	},
}

// message decodes MessageArgs and the protocol message in it.
func message(d []byte, a *apdu.MessageArgs, m protocol.Message) error {
	if err := args(d, a); err != nil {
		return err
	}
	return msg(a.Msg, m)
}

// marshal is the answer of an operation that signs one message.
func marshal[M protocol.Message](m M, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return m.Marshal(), nil
}

// payArgs decodes PAY's (and PAY ONLINE's) arguments and their request.
func payArgs(d []byte) (apdu.PayArgs, *protocol.PaymentRequest, error) {
	var a apdu.PayArgs
	if err := args(d, &a); err != nil {
		return a, nil, err
	}
	req := new(protocol.PaymentRequest)
	if err := msg(a.Request, req); err != nil {
		return a, nil, err
	}
	return a, req, nil
}
