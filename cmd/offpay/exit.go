package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/offpay/offpay"
	"github.com/offpay/offpay/internal/exchange"
	"github.com/offpay/offpay/ledgerclient"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/transport/qr"
	"github.com/offpay/offpay/transport/sound"
	"github.com/offpay/offpay/wallet"
)

// Exit codes. They are part of the command line's interface (README,
// "Exit codes"): scripts may rely on them.
const (
	exitOK           = 0
	exitError        = 1  // anything not listed below
	exitUsage        = 2  // bad flags or arguments
	exitUnreachable  = 3  // the ledger could not be reached or is busy (503, 429); nothing was lost
	exitFunds        = 4  // not enough value in the purse
	exitLimit        = 5  // an offline limit was reached (the message says which), or a receive-only device was asked to pay
	exitSpent        = 6  // already spent, already accepted, a used request, or a sale already refunded
	exitExpired      = 7  // request or certificate expired, offline too long, or a payment too old to claim
	exitRevoked      = 8  // a device or issuer is revoked
	exitWrongPayee   = 9  // the payment is addressed to another payee, or a refund names a sale this device did not make or receive
	exitPIN          = 10 // wrong PIN, or the wallet is locked
	exitBadInput     = 11 // unreadable or foreign QR code, malformed message
	exitRefused      = 12 // the ledger or the payee refused (the message says why)
	exitDemoFailed   = 13 // a demo check failed
	exitNotEnrolled  = 14 // the wallet has no certificate yet
	exitStaleRevList = 15 // the payee's revocation list is too old: sync first
	exitSimFailed    = 16 // offpay sim: an invariant failed
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
	if msg, code, ok := hsmError(err); ok {
		return msg, code
	}
	var df *demoFailed
	if errors.As(err, &df) {
		return df.Error(), exitDemoFailed
	}
	var limited *ledgerclient.APIError
	if errors.As(err, &limited) && limited.RateLimited() {
		wait := ""
		if limited.RetryAfter > 0 {
			wait = fmt.Sprintf(", it asks to wait %s", limited.RetryAfter)
		}
		return "the ledger is busy (rate limited" + wait + "): nothing was lost; run the command again later", exitUnreachable
	}
	if errors.Is(err, ledgerclient.ErrInsecure) {
		return err.Error(), exitUsage
	}
	var sf *simFailed
	if errors.As(err, &sf) {
		return sf.Error(), exitSimFailed
	}
	if errors.Is(err, ledgerclient.ErrUnreachable) {
		return prefixed("ledger unreachable", err.Error()) + " (nothing was lost; run the command again when the ledger is back)", exitUnreachable
	}
	if errors.Is(err, qr.ErrNoQR) || errors.Is(err, qr.ErrNotOffpay) || errors.Is(err, qr.ErrCorrupt) || errors.Is(err, qr.ErrImage) {
		return "cannot read the code: " + err.Error(), exitBadInput
	}
	if errors.Is(err, sound.ErrWAV) || sound.IsDecodeError(err) {
		return "cannot read the sound: " + err.Error(), exitBadInput
	}
	if errors.Is(err, exchange.ErrRefused) {
		return err.Error(), exitRefused
	}
	var fe *fundsError
	if errors.As(err, &fe) {
		return fe.Error(), exitFunds
	}
	var np *notPaidOnline
	if errors.As(err, &np) {
		return np.Error(), exitError
	}
	if errors.Is(err, wallet.ErrBadOnlineReceipt) {
		return err.Error() + ": nothing is recorded as paid", exitRefused
	}
	var pm *payeeMismatch
	if errors.As(err, &pm) {
		return pm.Error(), exitWrongPayee
	}
	if msg, code, ok := refundError(err); ok {
		return msg, code
	}
	var sErr *se.Error
	if errors.As(err, &sErr) {
		d := seDetail(err, sErr)
		switch sErr.Code {
		case se.CodeInsufficientFunds:
			return "not enough money in the purse: " + d, exitFunds
		case se.CodeLimit:
			return fmt.Sprintf("offline limit reached (%s): %s", sErr.Which, d), exitLimit
		case se.CodeAlreadyAccepted, se.CodeNonceUsed:
			return prefixed("already spent", d), exitSpent
		case se.CodeExpired, se.CodeOfflineTooLong:
			return prefixed("expired", d), exitExpired
		case se.CodeClaimExpired:
			return "too old to claim: " + d + "; its value goes back to the payer's account", exitExpired
		case se.CodeReceiveOnly:
			return "this device only receives (a merchant device: its takings go to the account at sync): " + d, exitLimit
		case se.CodeRevoked:
			return prefixed("revoked", d), exitRevoked
		case se.CodeWrongPayee, se.CodeNonceUnknown:
			return prefixed("wrong payee", d), exitWrongPayee
		case se.CodeBadPIN:
			return prefixed("wrong PIN", d), exitPIN
		case se.CodeLocked:
			return "the wallet is locked: " + d, exitPIN
		case se.CodeWeakPIN:
			return "PIN too short: " + d, exitUsage
		case se.CodeNotEnrolled:
			return "this wallet is not enrolled yet (run offpay wallet init): " + d, exitNotEnrolled
		case se.CodeStaleRevList:
			return "revocation list too old: sync first: " + d, exitStaleRevList
		}
	}
	// A refusal by policy (an enrolment whose attestation the ledger does
	// not trust) may name the protocol class behind it: it is still the
	// ledger's refusal, not a bad message of this device's.
	var forbidden *ledgerclient.APIError
	byPolicy := errors.As(err, &forbidden) && forbidden.Code == offpay.EFORBIDDEN
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
		if byPolicy {
			return fmt.Sprintf("the ledger refused (%s): %s", forbidden.Code, forbidden.Message), exitRefused
		}
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

// seDetail is err's text with the SE's own prefix ("offpay se: code: ")
// left out: what wraps the SE error is kept, the code is said by the
// caller's words.
func seDetail(err error, e *se.Error) string {
	d := e.Detail
	if d == "" {
		d = strings.ReplaceAll(string(e.Code), "_", " ")
		if e.Which != "" {
			d += " (" + string(e.Which) + ")"
		}
	}
	return strings.Replace(err.Error(), e.Error(), d, 1)
}

// prefixed is label: text, unless text already starts with label.
func prefixed(label, text string) string {
	if strings.HasPrefix(strings.ToLower(text), strings.ToLower(label)) {
		return text
	}
	return label + ": " + text
}

// message is the line a person reads for err.
func message(err error) string {
	msg, _ := classify(err)
	return msg
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
