package ledger

import (
	"context"
	"time"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/protocol"
)

// Statement line kinds.
const (
	LineDeposit  = "deposit"
	LineWithdraw = "withdraw"
	LineReserve  = "reserve"
	LineRedeem   = "redeem"
	LineSettleIn = "settle_in"
	LineRecovery = "recovery"
	LineRefund   = "refund"  // a recovery given back: the debt it covered shrank
	LineExpired  = "expired" // an unclaimed payment's value back to its payer's account
	// LineSaleRefund is a merchant account paying a refund its device
	// signed (refunds.go): the refund's value moves to the device.
	LineSaleRefund = "sale_refund"
)

const maxRefLen = 128

// CheckAccountName checks an account name: it travels in device
// certificates, so it is 1 to 16 bytes of letters, digits, '-', '_', '.'.
// It names a path segment of the HTTP API too, so "." and ".." are not
// names: a URL cannot reach them.
func CheckAccountName(name string) error {
	if len(name) == 0 || len(name) > protocol.MaxAccountLen {
		return invalid("account name must be 1 to %d characters", protocol.MaxAccountLen)
	}
	if name == "." || name == ".." {
		return invalid("account name %q is not allowed: a URL path cannot name it", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return invalid("account name may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

func (s *Service) toAccount(a *AccountRow) *Account {
	return &Account{Name: a.Name, Merchant: a.Merchant, DisplayName: a.DisplayName, Balance: a.Balance, Currency: s.opts.Currency,
		Frozen: a.Frozen, CreatedAt: time.Unix(0, a.CreatedAt).UTC()}
}

// CreateAccount opens an empty account. A merchant's received payments
// sweep into it at settlement; its devices are certified with the account
// name as their display name (CreateMerchant names them otherwise).
func (s *Service) CreateAccount(ctx context.Context, name string, merchant bool) (*Account, error) {
	display := ""
	if merchant {
		display = name
	}
	return s.createAccount(ctx, name, merchant, display)
}

// CreateMerchant opens an empty merchant account whose devices'
// certificates carry display as the name payers are shown (1 to
// protocol.MaxCertNameLen bytes, protocol.CheckCertName).
func (s *Service) CreateMerchant(ctx context.Context, name, display string) (*Account, error) {
	if err := protocol.CheckCertName(display); err != nil {
		return nil, invalid("display name %q: %v", display, err)
	}
	return s.createAccount(ctx, name, true, display)
}

func (s *Service) createAccount(ctx context.Context, name string, merchant bool, display string) (*Account, error) {
	if err := CheckAccountName(name); err != nil {
		return nil, err
	}
	row := &AccountRow{Name: name, Merchant: merchant, DisplayName: display, CreatedAt: s.now().UnixNano()}
	err := s.update(ctx, func(tx Tx) error {
		old, err := tx.Account(ctx, name)
		if err != nil {
			return err
		}
		if old != nil {
			return offpay.Errorf(offpay.ECONFLICT, "account %q exists", name)
		}
		return tx.InsertAccount(ctx, row)
	})
	if err != nil {
		return nil, err
	}
	return s.toAccount(row), nil
}

func mustAccount(ctx context.Context, tx Tx, name string) (*AccountRow, error) {
	a, err := tx.Account(ctx, name)
	if err == nil && a == nil {
		err = offpay.Errorf(offpay.ENOTFOUND, "account %q not found", name)
	}
	return a, err
}

// Account returns an account, with the part of its balance held for its
// devices' unassessed deficits.
func (s *Service) Account(ctx context.Context, name string) (*Account, error) {
	var a *AccountRow
	var avail, refundable int64
	err := s.view(ctx, func(tx Tx) (err error) {
		if a, err = mustAccount(ctx, tx, name); err != nil {
			return err
		}
		avail, refundable, err = free(ctx, tx, a)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := s.toAccount(a)
	out.Held, out.Refundable = a.Balance-avail, refundable
	return out, nil
}

// Statement returns every movement of an account, oldest first.
func (s *Service) Statement(ctx context.Context, name string) ([]StatementLine, error) {
	var rows []LineRow
	err := s.view(ctx, func(tx Tx) error {
		if _, err := mustAccount(ctx, tx, name); err != nil {
			return err
		}
		var err error
		rows, err = tx.Lines(ctx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]StatementLine, len(rows))
	for i, r := range rows {
		out[i] = StatementLine{Seq: r.Seq, Kind: r.Kind, Amount: r.Amount, Balance: r.Balance, Ref: r.Ref, CreatedAt: time.Unix(0, r.CreatedAt).UTC()}
	}
	return out, nil
}

// Deposit credits an account (administrator, for pilots). A repeated ref
// with the same account and amount returns the account unchanged; a ref
// reused for anything else is a conflict.
func (s *Service) Deposit(ctx context.Context, name string, amount int64, ref string) (*Account, error) {
	return s.adminMove(ctx, name, LineDeposit, amount, ref, false)
}

// Withdraw debits an account (administrator, for pilots), idempotent by
// ref like Deposit.
func (s *Service) Withdraw(ctx context.Context, name string, amount int64, ref string) (*Account, error) {
	return s.adminMove(ctx, name, LineWithdraw, amount, ref, false)
}

// ReenterWithdrawal enters again a withdrawal the bank has already paid
// out, which a restore of the ledger's database took (ledger/README.md
// "Recovery: a ledger that went back in time", README "Restore": the
// operator re-enters it from the bank's records by its ref, as a deposit
// with Deposit). The money has
// left, so what refuses a new withdrawal does not refuse it: neither a
// freeze (fraud found after the withdrawal, in uploads the devices gave
// back after the restore) nor a hold. What the ledger recovered from the
// account since (cover) it takes back, and the debt that recovery covered
// becomes a loss, as when the withdrawal came first. It is refused
// (ELIMIT, nothing changed) only while the balance and those recoveries
// together lack the amount: the uploads that credited it are not back
// yet; re-enter it again after the devices sync. Idempotent by ref like
// Withdraw, and one ref with it: a withdrawal the ledger still holds is
// not applied again.
func (s *Service) ReenterWithdrawal(ctx context.Context, name string, amount int64, ref string) (*Account, error) {
	return s.adminMove(ctx, name, LineWithdraw, amount, ref, true)
}

// adminMove applies a deposit or withdrawal; paid marks a withdrawal the
// bank has already paid out (ReenterWithdrawal).
func (s *Service) adminMove(ctx context.Context, name, kind string, amount int64, ref string, paid bool) (*Account, error) {
	if amount <= 0 {
		return nil, invalid("amount must be positive")
	}
	if len(ref) == 0 || len(ref) > maxRefLen {
		return nil, invalid("ref must be 1 to %d bytes", maxRefLen)
	}
	if err := CheckText("ref", ref); err != nil {
		return nil, err
	}
	var out *AccountRow
	err := s.update(ctx, func(tx Tx) error {
		a, err := mustAccount(ctx, tx, name)
		if err != nil {
			return err
		}
		out = a
		old, err := tx.Ref(ctx, ref)
		if err != nil {
			return err
		}
		if old != nil {
			if old.Account != name || old.Kind != kind || old.Amount != amount {
				return offpay.Errorf(offpay.ECONFLICT, "ref %q was used for another operation", ref)
			}
			return nil
		}
		signed := amount
		if kind == LineWithdraw && paid {
			gross, err := offpay.AddMinor(a.Balance, a.Recovered)
			if err != nil {
				return err
			}
			if gross < amount {
				return offpay.Errorf(offpay.ELIMIT, "account %q holds %s (with %s recovered from it) of the %s withdrawn: re-enter it after its devices sync",
					name, money(a.Balance, s.opts.Currency), money(a.Recovered, s.opts.Currency), money(amount, s.opts.Currency))
			}
			if back := amount - a.Balance; back > 0 {
				// The recovery took money that had left: given back
				// here, cover below records the debt it covered as lost.
				a.Recovered -= back
				if err := s.post(ctx, tx, a, LineRefund, back, "overspend"); err != nil {
					return err
				}
			}
			signed = -amount
		} else if kind == LineWithdraw {
			if a.Frozen {
				return offpay.Errorf(offpay.EFORBIDDEN, "account %q is frozen", name)
			}
			if a.Balance < amount {
				return offpay.Errorf(offpay.ELIMIT, "insufficient funds: %s requested, %s in the account", money(amount, s.opts.Currency), money(a.Balance, s.opts.Currency))
			}
			if avail, _, err := free(ctx, tx, a); err != nil {
				return err
			} else if avail < amount {
				return heldError(a, amount, avail, s.opts.Currency)
			}
			signed = -amount
		}
		if err := s.issue(ctx, tx, signed); err != nil { // the policy's bound on the money issued
			return err
		}
		if err := tx.InsertRef(ctx, &RefRow{Ref: ref, Account: name, Kind: kind, Amount: amount}); err != nil {
			return err
		}
		if err := s.post(ctx, tx, a, kind, signed, ref); err != nil {
			return err
		}
		if err := s.cover(ctx, tx, a); err != nil {
			return err
		}
		return tx.UpdateAccount(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return s.toAccount(out), nil
}

// position is a device's purse value as the ledger knows it.
func position(d *DeviceRow) int64 {
	return d.Loaded + d.Received + d.Drawn - d.Sent - d.Redeemed - d.Swept - d.Restored
}

// assessable says whether a negative position is a proven overspend rather
// than an artefact of upload order: either the device is revoked, or its
// own log has been seen up to every payment it is known to have made (so
// every receipt it could have spent is known too).
func assessable(d *DeviceRow) bool { return d.Revoked || d.Acked >= d.MaxSent }

// debt is a device's proven overspend.
func debt(d *DeviceRow) int64 {
	if p := position(d); p < 0 && assessable(d) && !foreign(d) {
		return -p
	}
	return 0
}

// cover brings the account's overspend cover up to date: the proven debt
// of its devices is recovered from the balance as far as it goes and the
// rest is recorded as a loss. It maximises recovery on every call, so a
// later credit pays down an earlier loss and a debt that shrinks is
// refunded. The result depends only on the final debt and the account's
// gross credits, never on the order uploads arrived in. The caller saves a.
func (s *Service) cover(ctx context.Context, tx Tx, a *AccountRow) error {
	devs, err := tx.DevicesOf(ctx, a.Name)
	if err != nil {
		return err
	}
	var debt int64
	for i := range devs {
		if p := position(&devs[i]); p < 0 && assessable(&devs[i]) && !foreign(&devs[i]) {
			debt -= p
		}
	}
	gross := a.Balance + a.Recovered
	rec := min(debt, gross)
	delta := a.Recovered - rec
	a.Recovered, a.Lost = rec, debt-rec
	switch {
	case delta < 0:
		return s.post(ctx, tx, a, LineRecovery, delta, "overspend")
	case delta > 0:
		return s.post(ctx, tx, a, LineRefund, delta, "overspend")
	}
	return nil
}
