package main

import (
	"errors"
	"fmt"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/transport/qr"
)

// Exit codes. They are part of the command line's interface (README,
// "Exit codes"): scripts may rely on them.
const (
	exitOK           = 0
	exitError        = 1  // anything not listed below
	exitUsage        = 2  // bad flags or arguments
	exitUnreachable  = 3  // the ledger could not be reached; nothing was lost
	exitFunds        = 4  // not enough value in the purse
	exitLimit        = 5  // an offline limit was reached (the message says which), or a receive-only device was asked to pay
	exitSpent        = 6  // already spent, already accepted, or a used request
	exitExpired      = 7  // request or certificate expired, offline too long, or a payment too old to claim
	exitRevoked      = 8  // a device or issuer is revoked
	exitWrongPayee   = 9  // the payment is addressed to another payee
	exitPIN          = 10 // wrong PIN, or the wallet is locked
	exitBadInput     = 11 // unreadable or foreign QR code, malformed message
	exitRefused      = 12 // the ledger or the payee refused (the message says why)
	exitDemoFailed   = 13 // a demo check failed
	exitNotEnrolled  = 14 // the wallet has no certificate yet
	exitStaleRevList = 15 // the payee's revocation list is too old: sync first
)

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// classify turns an error into the one line a person reads and an exit code.
func classify(err error) (string, int) {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.msg, exitUsage
	}
	var ie *inputError
	if errors.As(err, &ie) {
		return "cannot read the input: " + ie.Error(), exitBadInput
	}
	var df *demoFailed
	if errors.As(err, &df) {
		return df.Error(), exitDemoFailed
	}
	if errors.Is(err, ledgerclient.ErrUnreachable) {
		return "ledger unreachable: " + err.Error() + " (nothing was lost; run the command again when the ledger is back)", exitUnreachable
	}
	if errors.Is(err, qr.ErrNoQR) || errors.Is(err, qr.ErrNotOffpay) || errors.Is(err, qr.ErrCorrupt) || errors.Is(err, qr.ErrImage) {
		return "cannot read the code: " + err.Error(), exitBadInput
	}
	if errors.Is(err, exchange.ErrRefused) {
		return err.Error(), exitRefused
	}
	var sErr *se.Error
	if errors.As(err, &sErr) {
		switch sErr.Code {
		case se.CodeInsufficientFunds:
			return "not enough money in the purse: " + sErr.Error(), exitFunds
		case se.CodeLimit:
			return fmt.Sprintf("limit reached (%s): %s", sErr.Which, sErr.Error()), exitLimit
		case se.CodeAlreadyAccepted, se.CodeNonceUsed:
			return "already spent: " + sErr.Error(), exitSpent
		case se.CodeExpired, se.CodeOfflineTooLong:
			return "expired: " + sErr.Error(), exitExpired
		case se.CodeClaimExpired:
			return "too old to claim (the payer's value returns to the payer at sync): " + sErr.Error(), exitExpired
		case se.CodeReceiveOnly:
			return "this device only receives (a merchant device: its takings go to the account at sync): " + sErr.Error(), exitLimit
		case se.CodeRevoked:
			return "revoked: " + sErr.Error(), exitRevoked
		case se.CodeWrongPayee, se.CodeNonceUnknown:
			return "wrong payee: " + sErr.Error(), exitWrongPayee
		case se.CodeBadPIN, se.CodeLocked:
			return sErr.Error(), exitPIN
		case se.CodeNotEnrolled:
			return "this wallet is not enrolled yet (run offpay wallet init): " + sErr.Error(), exitNotEnrolled
		case se.CodeStaleRevList:
			return "revocation list too old: sync first: " + sErr.Error(), exitStaleRevList
		}
	}
	switch protocol.ClassOf(err) {
	case protocol.ClassRevoked:
		return "revoked: " + err.Error(), exitRevoked
	case protocol.ClassExpired:
		return "expired: " + err.Error(), exitExpired
	case protocol.ClassWrongPayee:
		return "wrong payee: " + err.Error(), exitWrongPayee
	case protocol.ClassLimit:
		return "limit reached: " + err.Error(), exitLimit
	case protocol.ClassStaleRevList:
		return "revocation list too old: sync first: " + err.Error(), exitStaleRevList
	case "":
	default:
		return "bad message: " + err.Error(), exitBadInput
	}
	var api *ledgerclient.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("the ledger refused (%s): %s", api.Code, api.Message), exitRefused
	}
	if offpay.ErrorCode(err) == offpay.EINVALID {
		return err.Error(), exitUsage
	}
	return err.Error(), exitError
}

// report prints err as one line on stderr and returns the exit code.
func report(e *env, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	msg, code := classify(err)
	fmt.Fprintln(e.stderr, "offpay: "+msg)
	return code
}
