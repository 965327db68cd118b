package vectors

import (
	"bytes"
	"net/netip"
	"sort"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

type signable interface {
	protocol.Message
	SigningInput() []byte
}

func out(m signable) *Output { return &Output{SigningInputHex: hexOf(m.SigningInput())} }

func certOut(c *protocol.Certificate) *Output {
	o := out(c)
	id := c.ID()
	o.KeyIDHex = hexOf(id[:])
	return o
}

func paymentOut(p *protocol.Payment) *Output {
	o := out(p)
	id := p.ID()
	o.PaymentIDHex = hexOf(id[:])
	return o
}

func entryOut(e *protocol.LogEntry) *Output {
	o := out(e)
	h := e.Hash()
	o.EntryHashHex = hexOf(h[:])
	return o
}

// validVectors: one accepted message of every type, with the signing input
// and the identifiers a verifier derives from it.
func (w *world) validVectors() []Vector {
	chKey, pairing := channel()
	req := &protocol.PaymentRequest{Version: protocol.Version, Payee: *w.payee, Amount: 1250, Currency: "EUR",
		Nonce: nonce("request"), Expiry: prototest.Epoch + 300, Name: "Corner Shop", ChannelKey: chKey, Pairing: pairing,
		Address: tcpAddress("192.0.2.10:8421")}
	must(req.Sign(w.payeeKey))
	open := &protocol.PaymentRequest{Version: protocol.Version, Payee: *w.payee, Currency: "EUR",
		Nonce: nonce("request-open"), Expiry: prototest.Epoch + 300}
	must(open.Sign(w.payeeKey))

	rl := w.revocationList(5, revokedIDs("r1", "r2", "r3")...)
	redeem := &protocol.Redeem{Version: protocol.Version, Device: w.payee.ID(), Counter: 2, Amount: 1250, Currency: "EUR", Time: prototest.Epoch + 7200}
	must(redeem.Sign(w.payeeKey))
	upload := &protocol.SyncUpload{Version: protocol.Version, Device: w.payer.ID(), Time: prototest.Epoch + 3600, Entries: w.entries}
	must(upload.Sign(w.payerKey))
	result := w.syncResult(nil)
	enrol := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: protocol.AlgEd25519, Key: w.payerKey.PublicKey(),
		Account: "alice-0001", Class: protocol.SEVirtual, Time: prototest.Epoch - 86400}
	must(enrol.Sign(w.payerKey))
	enrolP := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: protocol.AlgECDSAP256, Key: w.p256Key.PublicKey(),
		Account: "bob-0001", Class: protocol.SESmartCard, Time: prototest.Epoch - 86400}
	must(enrolP.Sign(w.p256Key))
	reserve := &protocol.ReserveRequest{Version: protocol.Version, Device: w.payer.ID(), RequestID: nonce("reserve"),
		Amount: 50000, Currency: "EUR", Time: prototest.Epoch - 60}
	must(reserve.Sign(w.payerKey))

	applied := &protocol.SyncApplied{Version: protocol.Version, Device: w.payer.ID(), Result: result.ID(), Time: result.Time}
	syncEntry := &protocol.LogEntry{Version: protocol.Version, Device: w.payer.ID(), Counter: 4, Prev: w.entries[2].Hash(),
		Kind: protocol.EntrySync, Time: result.Time, Body: applied.Marshal()}
	must(syncEntry.Sign(w.payerKey))

	renewed := w.syncResult(nil)
	renewed.Cert = []protocol.Certificate{*w.renewal(w.payer, w.payerKey)}
	must(renewed.Sign(w.pki.IssuerKey))

	v := func(name, typ, desc string, in Input, o *Output) Vector {
		return Vector{Name: name, Description: desc, MessageType: typ, Input: in, Expect: Valid, Output: o}
	}
	return []Vector{
		v("certificate-root-valid", "certificate", "A self-signed Ed25519 root certificate: pinning it succeeds.",
			Input{EnvelopeHex: hexOf(protocol.Seal(w.pki.Root))}, certOut(w.pki.Root)),
		v("certificate-issuer-valid", "certificate", "An issuer certificate signed by the pinned root.",
			w.trust(Input{EnvelopeHex: hexOf(protocol.Seal(w.pki.Issuer))}), certOut(w.pki.Issuer)),
		v("certificate-device-ed25519-valid", "certificate", "An Ed25519 device certificate whose chain reaches the pinned root; not revoked.",
			w.deviceView(Input{EnvelopeHex: hexOf(protocol.Seal(w.payer))}), certOut(w.payer)),
		v("certificate-merchant-valid", "certificate", "A merchant's device certificate certifying the name \"Corner Shop\"; chain reaches the pinned root.",
			w.deviceView(Input{EnvelopeHex: hexOf(protocol.Seal(w.payee))}), certOut(w.payee)),
		v("certificate-device-p256-valid", "certificate", "A device certificate for a P-256 SE key (compressed, 33 bytes), signed by the Ed25519 issuer.",
			w.deviceView(Input{EnvelopeHex: hexOf(protocol.Seal(w.payerP))}), certOut(w.payerP)),
		v("revocation-list-valid", "revocation_list", "Revocation list number 5 naming three device keys in ascending order, signed by the trusted issuer.",
			w.trust(Input{EnvelopeHex: hexOf(protocol.Seal(rl))}), out(rl)),
		v("load-valid", "load", "The ledger's load of 500.00 EUR (sequence 1) to the payer's SE, signed by the issuer key.",
			signed(w.load, w.pki.Issuer), out(w.load)),
		v("payment-request-valid", "payment_request", "A request for 12.50 EUR with display name, X25519 channel key, pairing secret and channel address (TCP 192.0.2.10:8421), signed by the payee's SE key.",
			Input{EnvelopeHex: hexOf(protocol.Seal(req))}, out(req)),
		v("payment-request-open-amount-valid", "payment_request", "A request with amount 0 (the payer chooses), no name and no channel.",
			Input{EnvelopeHex: hexOf(protocol.Seal(open))}, out(open)),
		v("payment-ed25519-valid", "payment", "A payment of 12.50 EUR (counter 2) signed by the payer's Ed25519 SE key.",
			signed(w.payment, w.payer), paymentOut(w.payment)),
		v("payment-p256-valid", "payment", "A payment of 9.90 EUR signed by a P-256 SE key: r||s, low s.",
			signed(w.paymentP, w.payerP), paymentOut(w.paymentP)),
		v("payment-bundle-ed25519-valid", "payment_bundle", "Payment and Ed25519 payer certificate as the payee receives them; every offline check passes.",
			w.payeeView(Input{EnvelopeHex: hexOf(protocol.Seal(&protocol.PaymentBundle{Payment: *w.payment, Cert: *w.payer}))}), paymentOut(w.payment)),
		v("payment-bundle-p256-valid", "payment_bundle", "Payment and P-256 payer certificate; every offline check passes.",
			w.payeeView(Input{EnvelopeHex: hexOf(protocol.Seal(&protocol.PaymentBundle{Payment: *w.paymentP, Cert: *w.payerP}))}), paymentOut(w.paymentP)),
		v("receipt-valid", "receipt", "The payee SE's receipt of the Ed25519 payment (its log counter 1).",
			signed(w.receipt, w.payee), out(w.receipt)),
		v("redeem-valid", "redeem", "The payee asks the ledger to move 12.50 EUR from its purse to its account.",
			signed(redeem, w.payee), out(redeem)),
		v("log-entry-first-valid", "log_entry", "The payer's first log entry (counter 1, zero previous hash): the load.",
			signed(&w.entries[0], w.payer), entryOut(&w.entries[0])),
		v("log-entry-pay-valid", "log_entry", "The payer's second log entry: the payment, chained to the first entry's hash.",
			signed(&w.entries[1], w.payer), entryOut(&w.entries[1])),
		v("sync-upload-valid", "sync_upload", "The payer's upload of its log entries 1 to 3, signed by its SE key.",
			signed(upload, w.payer), out(upload)),
		v("sync-result-valid", "sync_result", "The ledger's answer: entries up to 3 acknowledged, the payment settled, one new load, revocation list 1.",
			signed(result, w.pki.Issuer), out(result)),
		v("sync-result-renewal-valid", "sync_result", "A sync result that also renews the payer's certificate: same key and account, serial 1001, valid from ledger time - 60 s for two years, lower limits (holding 200.00, per payment 50.00).",
			signed(renewed, w.pki.Issuer), out(renewed)),
		v("enrolment-request-valid", "enrolment_request", "An Ed25519 SE proves possession of the key it asks a certificate for.",
			Input{EnvelopeHex: hexOf(protocol.Seal(enrol))}, out(enrol)),
		v("enrolment-request-p256-valid", "enrolment_request", "A P-256 smart-card SE proves possession of its key.",
			Input{EnvelopeHex: hexOf(protocol.Seal(enrolP))}, out(enrolP)),
		v("sync-applied-valid", "sync_applied", "The body of the payer's sync log entry: it applied the sync result of sync-result-valid (ledger time epoch + 3601) and has had 0 swept.",
			Input{EnvelopeHex: hexOf(protocol.Seal(applied))}, &Output{EnvelopeHex: hexOf(protocol.Seal(applied))}),
		v("log-entry-sync-valid", "log_entry", "The payer's fourth log entry: kind 6 (sync), body the SyncApplied of sync-applied-valid.",
			signed(syncEntry, w.payer), entryOut(syncEntry)),
		v("reserve-request-valid", "reserve_request", "The payer's device asks the ledger to move 500.00 EUR into its purse.",
			signed(reserve, w.payer), out(reserve)),
	}
}

func (w *world) revocationList(number uint64, ids ...protocol.KeyID) *protocol.RevocationList {
	rl := &protocol.RevocationList{Version: protocol.Version, Number: number, Issued: prototest.Epoch, Signer: w.pki.Issuer.ID(), Revoked: ids}
	must(rl.Sign(w.pki.IssuerKey))
	return rl
}

func (w *world) syncResult(missing []uint64) *protocol.SyncResult {
	r := &protocol.SyncResult{Version: protocol.Version, Device: w.payer.ID(), Acked: 3, Time: prototest.Epoch + 3601,
		Statuses: []protocol.PaymentStatus{{Payment: w.payment.ID(), Status: protocol.StatusSettled}},
		Missing:  missing, Loads: []protocol.Load{*w.pki.Load(w.payer.ID(), 2, 10000, prototest.Epoch+3601)},
		RevList: *w.rl, Signer: w.pki.Issuer.ID()}
	must(r.Sign(w.pki.IssuerKey))
	return r
}

// renewal is the ledger's renewal of dev at the sync result's time:
// serial 1001, two years from then, lower limits.
func (w *world) renewal(dev *protocol.Certificate, key protocol.Signer) *protocol.Certificate {
	c := *dev
	c.Key = key.PublicKey()
	c.Serial = 1001
	c.NotBefore, c.NotAfter = prototest.Epoch+3601-60, prototest.Epoch+3601+2*prototest.Year
	c.Limits.Holding, c.Limits.PerPayment = 20000, 5000
	must(c.Sign(w.pki.IssuerKey))
	return &c
}

// revokedIDs returns the KeyIDs of labelled Ed25519 keys, ascending.
func revokedIDs(labels ...string) []protocol.KeyID {
	var ids []protocol.KeyID
	for _, l := range labels {
		k := prototest.Ed25519Key("vectors/revoked/" + l)
		ids = append(ids, protocol.ComputeKeyID(k.Alg(), k.PublicKey()))
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	return ids
}

// tcpAddress is the channel address of a TCP endpoint.
func tcpAddress(s string) []byte {
	a, err := protocol.TCPAddress(netip.MustParseAddrPort(s))
	must(err)
	return a
}
