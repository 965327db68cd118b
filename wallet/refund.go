package wallet

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
)

// Refunds (protocol SPEC.md 7.5.1). A merchant's wallet refunds a sale its
// SE received: Refund signs a refund to the sale's payer, drawn on the
// merchant account (the purse is not touched), and returns its bundle to
// show as a code, as Pay does. The payer takes it with Accept, like a
// payment. Both histories show it as a refund record naming the sale:
// KindRefund (given) and KindRefunded (received).

// ErrAmbiguousSale is FindSale's error for an ID prefix that names more
// than one sale.
var ErrAmbiguousSale = errors.New("wallet: the ID names several sales: give more of it")

// minSaleID is the fewest hex characters of a sale ID FindSale takes.
const minSaleID = 6

// Sales returns the sales this wallet's SE can still refund, or has
// refunded, within the refund window: oldest first.
func (w *Wallet) Sales() ([]se.Sale, error) { return w.se.Sales() }

// FindSale returns the sale whose payment ID is id, or starts with id (at
// least 6 hex characters), among the SE's sales. A payment the history
// knows but the SE no longer remembers is too old to refund offline; an
// ID of no payment this device received is an unknown sale. Both are
// se.ErrUnknownSale; a prefix of several sales is ErrAmbiguousSale.
func (w *Wallet) FindSale(id string) (se.Sale, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < minSaleID || strings.Trim(id, "0123456789abcdef") != "" {
		return se.Sale{}, se.Errorf(se.CodeUnknownSale, "%q is not a payment ID (at least %d hex characters of it)", id, minSaleID)
	}
	sales, err := w.se.Sales()
	if err != nil {
		return se.Sale{}, err
	}
	var found []se.Sale
	for _, s := range sales {
		if strings.HasPrefix(s.ID.String(), id) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
	default:
		return se.Sale{}, fmt.Errorf("%w (%d sales start with %s)", ErrAmbiguousSale, len(found), id)
	}
	if r := w.findRecord(id); r != nil {
		if r.Kind == KindReceive {
			return se.Sale{}, se.Errorf(se.CodeUnknownSale, "the payment %s received %s is too old to refund offline (the refund window is %s of ledger time after it)",
				r.ID[:12], time.Unix(int64(r.Time), 0).UTC().Format(time.RFC3339), time.Duration(protocol.RefundWindow)*time.Second)
		}
		return se.Sale{}, se.Errorf(se.CodeUnknownSale, "%s is a %s record, not a payment this device received", r.ID[:min(12, len(r.ID))], r.Kind)
	}
	return se.Sale{}, se.Errorf(se.CodeUnknownSale, "no payment this device received has an ID starting with %s", id)
}

// findRecord returns the history or archive record whose ID starts with
// prefix, if exactly one does.
func (w *Wallet) findRecord(prefix string) *Record {
	var found []Record
	for _, r := range w.History() {
		if strings.HasPrefix(r.ID, prefix) {
			found = append(found, r)
		}
	}
	if old, err := w.Archived(); err == nil {
		for _, r := range old {
			if strings.HasPrefix(r.ID, prefix) {
				found = append(found, r)
			}
		}
	}
	if len(found) == 1 {
		return &found[0]
	}
	return nil
}

// Refund signs a refund of sale (amount, or the whole sale if 0) to its
// payer and returns its bundle's envelope. Refunding a sale again with
// amount 0 or the amount refunded gives the same refund, byte for byte,
// and repeat is true: nothing is refunded twice (a lost refund code is
// shown again by refunding again). Another amount is
// se.ErrAlreadyRefunded, an amount above the sale se.LimitErr(LimitRefund).
func (w *Wallet) Refund(sale protocol.Hash, amount uint64) (bundle []byte, repeat bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sales, err := w.se.Sales()
	if err != nil {
		return nil, false, err
	}
	for _, s := range sales {
		if s.ID == sale && s.Refunded != 0 {
			repeat = true
		}
	}
	b, err := w.se.Refund(sale, amount, w.clock())
	if err != nil {
		return nil, false, err
	}
	if err := w.fold(); err != nil {
		return nil, false, err
	}
	return protocol.Seal(b), repeat, nil
}

// incoming says whether records of kind k are value received: a payment
// or a refund.
func incoming(k Kind) bool { return k == KindReceive || k == KindRefunded }
