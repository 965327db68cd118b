package ledgerclient

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/fxamacker/cbor/v2"
	"github.com/offpay/offpay"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
)

// setDec decodes envelope sets: a short array of byte strings.
var setDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{MaxArrayElements: 16, MaxNestedLevels: 4}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

func (c *Client) postMessage(ctx context.Context, path string, m protocol.Message, admin, idempotent bool, accept string, limit int) ([]byte, error) {
	return c.do(ctx, call{method: http.MethodPost, path: path, body: protocol.Seal(m), contentType: contentType,
		admin: admin, idempotent: idempotent}, accept, int64(limit))
}

// openAnswer decodes an envelope answer. A malformed answer is reported as
// an internal error: the ledger, not the caller, is at fault.
func openAnswer(b []byte, m protocol.Message) error {
	if err := protocol.OpenAs(b, m); err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "ledger answer: %w", err)
	}
	return nil
}

// openSet decodes a set answer into ms, which name the expected types in
// order.
func openSet(b []byte, ms ...protocol.Message) error {
	var set [][]byte
	if err := setDec.Unmarshal(b, &set); err != nil {
		return offpay.Errorf(offpay.EINTERNAL, "ledger answer is not an envelope set: %w", err)
	}
	if len(set) != len(ms) {
		return offpay.Errorf(offpay.EINTERNAL, "ledger answered %d messages, want %d", len(set), len(ms))
	}
	for i := range ms {
		if err := openAnswer(set[i], ms[i]); err != nil {
			return err
		}
	}
	return nil
}

func envelopeLimit(t protocol.Type) int { return 1 + protocol.MaxSize(t) }

// Enrol asks the ledger to certify the key in req, which the SE signed.
// It needs the administrator token: in a pilot the operator enrols devices.
// The caller verifies the returned chain against the roots it trusts.
// Enrol is retried: the ledger answers a repeated request for the same key
// and account with the same certificate.
func (c *Client) Enrol(ctx context.Context, req *protocol.EnrolmentRequest) (*ledger.Enrolment, error) {
	if err := c.secure(); err != nil {
		return nil, err
	}
	limit := 16 + 3*envelopeLimit(protocol.TypeCertificate) + envelopeLimit(protocol.TypeRevocationList) + 16
	b, err := c.postMessage(ctx, "/v1/enrol", req.Wire(), true, true, contentTypeSet, limit)
	if err != nil {
		return nil, err
	}
	e := &ledger.Enrolment{Device: new(protocol.Certificate), Issuer: new(protocol.Certificate),
		Root: new(protocol.Certificate), RevList: new(protocol.RevocationList)}
	if err := openSet(b, e.Device, e.Issuer, e.Root, e.RevList); err != nil {
		return nil, err
	}
	return e, nil
}

// EnrolWithCode is Enrol authorised by a one-time enrolment code of the
// request's account instead of the administrator's token. It is retried:
// the same key with the same code gets the same certificate.
func (c *Client) EnrolWithCode(ctx context.Context, req *protocol.EnrolmentRequest, code string) (*ledger.Enrolment, error) {
	limit := 16 + 3*envelopeLimit(protocol.TypeCertificate) + envelopeLimit(protocol.TypeRevocationList) + 16
	b, err := c.do(ctx, call{method: http.MethodPost, path: "/v1/enrol", body: protocol.Seal(req.Wire()), contentType: contentType,
		idempotent: true, auth: "Code " + code}, contentTypeSet, int64(limit))
	if err != nil {
		return nil, err
	}
	e := &ledger.Enrolment{Device: new(protocol.Certificate), Issuer: new(protocol.Certificate),
		Root: new(protocol.Certificate), RevList: new(protocol.RevocationList)}
	if err := openSet(b, e.Device, e.Issuer, e.Root, e.RevList); err != nil {
		return nil, err
	}
	return e, nil
}

// Reserve moves req.Amount from the device's account into its purse and
// returns the signed Load. It is retried: the ledger answers a repeated
// request id with the same Load and never debits twice.
func (c *Client) Reserve(ctx context.Context, req *protocol.ReserveRequest) (*protocol.Load, error) {
	b, err := c.postMessage(ctx, "/v1/reserve", req, false, true, contentType, envelopeLimit(protocol.TypeLoad))
	if err != nil {
		return nil, err
	}
	l := new(protocol.Load)
	if err := openAnswer(b, l); err != nil {
		return nil, err
	}
	return l, nil
}

// PayOnline pays the request p carries from the payer's account and
// returns the ledger's signed receipt. It is retried: the ledger answers
// the same request (payee and nonce) with the same receipt and never
// debits twice.
func (c *Client) PayOnline(ctx context.Context, p *protocol.OnlinePayment) (*protocol.OnlineReceipt, error) {
	b, err := c.postMessage(ctx, "/v1/online-payments", p, false, true, contentType, envelopeLimit(protocol.TypeOnlineReceipt))
	if err != nil {
		return nil, err
	}
	rc := new(protocol.OnlineReceipt)
	if err := openAnswer(b, rc); err != nil {
		return nil, err
	}
	return rc, nil
}

// OnlineReceipt looks up the receipt of the online payment of payee's
// request nonce (an ENOTFOUND APIError while nobody paid it online). The
// caller verifies its signature against the issuer it trusts.
func (c *Client) OnlineReceipt(ctx context.Context, payee protocol.KeyID, nonce protocol.Nonce) (*protocol.OnlineReceipt, error) {
	path := "/v1/online-payments/" + payee.String() + "/" + hex.EncodeToString(nonce[:])
	b, err := c.do(ctx, call{method: http.MethodGet, path: path, idempotent: true},
		contentType, int64(envelopeLimit(protocol.TypeOnlineReceipt)))
	if err != nil {
		return nil, err
	}
	rc := new(protocol.OnlineReceipt)
	if err := openAnswer(b, rc); err != nil {
		return nil, err
	}
	return rc, nil
}

// PresentOnlineReceipt gives the ledger back a receipt it signed, so that
// an online payment it lost in a restore is entered again; restored says
// it was (false: the ledger holds it). It is retried: the ledger enters a
// payment once.
func (c *Client) PresentOnlineReceipt(ctx context.Context, rc *protocol.OnlineReceipt) (bool, error) {
	return c.postEvidence(ctx, "/v1/online-receipts", rc, "restored")
}

// Sync uploads the device's log entries and returns the ledger's signed
// answer. It is retried: a repeated upload is recorded once.
func (c *Client) Sync(ctx context.Context, up *protocol.SyncUpload) (*protocol.SyncResult, error) {
	b, err := c.postMessage(ctx, "/v1/sync", up, false, true, contentType, envelopeLimit(protocol.TypeSyncResult))
	if err != nil {
		return nil, err
	}
	r := new(protocol.SyncResult)
	if err := openAnswer(b, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Acknowledge shows the ledger the device's last sync result (which the
// ledger signed) as evidence that the ledger lost part of the device's
// log; it reports whether the ledger is behind the device.
func (c *Client) Acknowledge(ctx context.Context, res *protocol.SyncResult) (bool, error) {
	return c.postEvidence(ctx, "/v1/acknowledgement", res, "ledger_behind")
}

// postEvidence posts m, a message the ledger itself signed and a device
// shows it again, and returns the one boolean field of the JSON answer.
func (c *Client) postEvidence(ctx context.Context, path string, m protocol.Message, field string) (bool, error) {
	b, err := c.postMessage(ctx, path, m, false, true, "application/json", 1<<10)
	if err != nil {
		return false, err
	}
	var a map[string]bool
	if err := json.Unmarshal(b, &a); err != nil {
		return false, offpay.Errorf(offpay.EINTERNAL, "ledger answer: %w", err)
	}
	return a[field], nil
}

// RevocationList fetches the latest revocation list. The caller verifies
// its signature against the issuer it trusts.
func (c *Client) RevocationList(ctx context.Context) (*protocol.RevocationList, error) {
	b, err := c.do(ctx, call{method: http.MethodGet, path: "/v1/revocation-list", idempotent: true},
		contentType, int64(envelopeLimit(protocol.TypeRevocationList)))
	if err != nil {
		return nil, err
	}
	rl := new(protocol.RevocationList)
	if err := openAnswer(b, rl); err != nil {
		return nil, err
	}
	return rl, nil
}

// Trust fetches the ledger's root and issuer certificates. Fetched over
// the network they prove nothing by themselves: a wallet pins the root it
// was given out of band (or on first use) and checks it against this one.
func (c *Client) Trust(ctx context.Context) (root, issuer *protocol.Certificate, err error) {
	b, err := c.do(ctx, call{method: http.MethodGet, path: "/v1/trust", idempotent: true},
		contentTypeSet, int64(16+2*envelopeLimit(protocol.TypeCertificate)))
	if err != nil {
		return nil, nil, err
	}
	root, issuer = new(protocol.Certificate), new(protocol.Certificate)
	if err := openSet(b, root, issuer); err != nil {
		return nil, nil, err
	}
	return root, issuer, nil
}
