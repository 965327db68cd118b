package card

import (
	"errors"
	"fmt"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/apdu"
)

// Enrol implements se.SE.
func (c *Card) Enrol(account string, now uint64) (*protocol.EnrolmentRequest, error) {
	b, err := c.call(apdu.InsEnrol, apdu.EnrolArgs{Account: account, Now: now})
	r, err := answer(b, err, new(protocol.EnrolmentRequest))
	if err != nil || r.Class == protocol.SEVirtual {
		return r, err
	}
	// A card claiming a higher class shows its attestation with the request.
	if r.Attestation, err = c.Attestation(); err != nil {
		return nil, err
	}
	return r, nil
}

// Attestation is GET ATTESTATION: the manufacturer's attestation of the
// card's key, or nil if the card has none.
func (c *Card) Attestation() (*protocol.Attestation, error) {
	b, err := c.call(apdu.InsAttestation, nil)
	var st *apdu.StatusError
	if errors.As(err, &st) && st.SW == apdu.SWNoData {
		return nil, nil
	}
	return answer(b, err, new(protocol.Attestation))
}

// Install implements se.SE.
func (c *Card) Install(dev *protocol.Certificate, a se.Anchors, rl *protocol.RevocationList) error {
	args := apdu.InstallArgs{Cert: dev.Marshal(), RevList: rl.Marshal()}
	for _, r := range a.Roots {
		args.Roots = append(args.Roots, r.Marshal())
	}
	for _, i := range a.Issuers {
		args.Issuers = append(args.Issuers, i.Marshal())
	}
	_, err := c.call(apdu.InsInstall, args)
	return err
}

// ApplyLoad implements se.SE.
func (c *Card) ApplyLoad(l *protocol.Load) error {
	_, err := c.call(apdu.InsApplyLoad, apdu.MessageArgs{Msg: l.Marshal()})
	return err
}

// Reserve implements se.SE.
func (c *Card) Reserve(amount uint64, id protocol.Nonce, now uint64) (*protocol.ReserveRequest, error) {
	b, err := c.call(apdu.InsReserve, apdu.ReserveArgs{Amount: amount, ID: id, Now: now})
	return answer(b, err, new(protocol.ReserveRequest))
}

// NewRequest implements se.SE.
func (c *Card) NewRequest(r se.RequestParams, now uint64) (*protocol.PaymentRequest, error) {
	b, err := c.call(apdu.InsNewRequest, apdu.RequestArgsOf(r, now))
	return answer(b, err, new(protocol.PaymentRequest))
}

// StandingRequest implements se.SE.
func (c *Card) StandingRequest(r se.RequestParams, now uint64) (*protocol.PaymentRequest, error) {
	b, err := c.call(apdu.InsStanding, apdu.RequestArgsOf(r, now))
	return answer(b, err, new(protocol.PaymentRequest))
}

// Pay implements se.SE.
func (c *Card) Pay(req *protocol.PaymentRequest, amount uint64, now uint64) (*protocol.PaymentBundle, error) {
	b, err := c.call(apdu.InsPay, apdu.PayArgs{Request: req.Marshal(), Amount: amount, Now: now})
	return answer(b, err, new(protocol.PaymentBundle))
}

// PayOnline implements se.SE.
func (c *Card) PayOnline(req *protocol.PaymentRequest, amount uint64, now uint64) (*protocol.OnlinePayment, error) {
	b, err := c.call(apdu.InsPayOnline, apdu.PayArgs{Request: req.Marshal(), Amount: amount, Now: now})
	return answer(b, err, new(protocol.OnlinePayment))
}

// Receive implements se.SE.
func (c *Card) Receive(bu *protocol.PaymentBundle, now uint64) (*protocol.Receipt, error) {
	b, err := c.call(apdu.InsReceive, apdu.MessageArgs{Msg: bu.Marshal(), Now: now})
	return answer(b, err, new(protocol.Receipt))
}

// ConfirmReceipt implements se.SE.
func (c *Card) ConfirmReceipt(r *protocol.Receipt, now uint64) error {
	_, err := c.call(apdu.InsConfirmReceipt, apdu.MessageArgs{Msg: r.Marshal(), Now: now})
	return err
}

// Refund implements se.SE.
func (c *Card) Refund(sale protocol.Hash, amount uint64, now uint64) (*protocol.PaymentBundle, error) {
	b, err := c.call(apdu.InsRefund, apdu.RefundArgs{Sale: sale, Amount: amount, Now: now})
	return answer(b, err, new(protocol.PaymentBundle))
}

// Sales implements se.SE.
func (c *Card) Sales() ([]se.Sale, error) {
	b, err := c.call(apdu.InsSales, nil)
	if err != nil {
		return nil, err
	}
	var items []apdu.SaleItem
	if err := apdu.Dec.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("card: its sales: %w", err)
	}
	out := make([]se.Sale, len(items))
	for i, s := range items {
		out[i] = se.Sale{ID: s.ID, Payer: s.Payer, Amount: s.Amount, Time: s.Time, Until: s.Until, Refunded: s.Refunded, RefundID: s.RefundID}
	}
	return out, nil
}

// Redeem implements se.SE.
func (c *Card) Redeem(amount uint64, now uint64) (*protocol.Redeem, error) {
	b, err := c.call(apdu.InsRedeem, apdu.AmountArgs{Amount: amount, Now: now})
	return answer(b, err, new(protocol.Redeem))
}

// SyncUpload implements se.SE.
func (c *Card) SyncUpload(since uint64, now uint64) (*protocol.SyncUpload, error) {
	b, err := c.call(apdu.InsSyncUpload, apdu.SinceArgs{Since: since, Now: now})
	return answer(b, err, new(protocol.SyncUpload))
}

// ApplySyncResult implements se.SE.
func (c *Card) ApplySyncResult(r *protocol.SyncResult) error {
	_, err := c.call(apdu.InsApplySync, apdu.MessageArgs{Msg: r.Marshal()})
	return err
}

// Log implements se.SE.
func (c *Card) Log(since uint64) ([]protocol.LogEntry, error) {
	b, err := c.call(apdu.InsLog, apdu.SinceArgs{Since: since})
	if err != nil {
		return nil, err
	}
	var raw [][]byte
	if err := apdu.Dec.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("card: its log: %w", err)
	}
	out := make([]protocol.LogEntry, len(raw))
	for i, r := range raw {
		if err := protocol.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("card: its log entry: %w", err)
		}
	}
	return out, nil
}

// Pending implements se.SE.
func (c *Card) Pending() ([]se.Pending, error) {
	b, err := c.call(apdu.InsPending, nil)
	if err != nil {
		return nil, err
	}
	var items []apdu.PendingItem
	if err := apdu.Dec.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("card: its pending payments: %w", err)
	}
	out := make([]se.Pending, len(items))
	for i, p := range items {
		out[i] = se.Pending{ID: p.ID, Payee: p.Payee, Amount: p.Amount, Counter: p.Counter}
	}
	return out, nil
}

// Certificate implements se.SE: nil before Install, or if the card cannot
// be reached.
func (c *Card) Certificate() *protocol.Certificate {
	b, err := c.call(apdu.InsCertificate, nil)
	if err != nil || len(b) == 0 {
		return nil
	}
	cert := new(protocol.Certificate)
	if protocol.Unmarshal(b, cert) != nil {
		return nil
	}
	return cert
}

// Status implements se.SE.
func (c *Card) Status(now uint64) (se.Status, error) {
	b, err := c.call(apdu.InsStatus, apdu.NowArgs{Now: now})
	if err != nil {
		return se.Status{}, err
	}
	var s se.Status
	if err := apdu.Dec.Unmarshal(b, &s); err != nil {
		return se.Status{}, fmt.Errorf("card: its status: %w", err)
	}
	return s, nil
}

// SealData implements se.DataSealer.
func (c *Card) SealData(label string, plain []byte) ([]byte, error) {
	return c.call(apdu.InsSealData, apdu.DataArgs{Label: label, Data: plain})
}

// OpenData implements se.DataSealer.
func (c *Card) OpenData(label string, sealed []byte) ([]byte, error) {
	return c.call(apdu.InsOpenData, apdu.DataArgs{Label: label, Data: sealed})
}
