package vectors

import (
	"bytes"
	"net/netip"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// otherVectors: refusals specific to the remaining message types.
func (w *world) otherVectors() []Vector {
	var vs []Vector
	add := func(name, typ, desc string, in Input, class protocol.Class) {
		vs = append(vs, bad(name, typ, desc, in, class))
	}

	// Revocation lists.
	ids := revokedIDs("r1", "r2", "r3")
	unsorted := w.revocationList(6, ids[1], ids[0], ids[2])
	add("revocation-list-unsorted", "revocation_list", "Revoked KeyIDs not in strictly ascending order (a second spelling of the same set).",
		w.trust(Input{EnvelopeHex: hexOf(protocol.Seal(unsorted))}), protocol.ClassNonCanonical)
	foreign := &protocol.RevocationList{Version: protocol.Version, Number: 9, Issued: prototest.Epoch, Signer: w.other.Issuer.ID()}
	must(foreign.Sign(w.other.IssuerKey))
	add("revocation-list-untrusted-signer", "revocation_list", "A list signed by another PKI's issuer.",
		w.trust(Input{EnvelopeHex: hexOf(protocol.Seal(foreign))}), protocol.ClassUntrusted)
	forged := *w.rl
	forged.Revoked = nil
	forged.Number = 7
	add("revocation-list-bad-signature", "revocation_list", "List 1 renumbered 7 after signing (to roll a newer list back).",
		w.trust(Input{EnvelopeHex: hexOf(protocol.Seal(&forged))}), protocol.ClassBadSignature)

	// Loads.
	l := *w.load
	l.Amount = 5000000
	add("load-tampered-amount", "load", "A load whose amount was raised after the issuer signed it.", signed(&l, w.pki.Issuer), protocol.ClassBadSignature)
	otherLoad := w.other.Load(w.payer.ID(), 1, 50000, prototest.Epoch)
	add("load-wrong-signer", "load", "A load signed by another PKI's issuer, checked against the trusted issuer.", signed(otherLoad, w.pki.Issuer), protocol.ClassBadSignature)
	zl := &protocol.Load{Version: protocol.Version, Device: w.payer.ID(), Seq: 3, Currency: "EUR", Time: prototest.Epoch, Signer: w.pki.Issuer.ID()}
	must(zl.Sign(w.pki.IssuerKey))
	add("load-zero-amount", "load", "A load of 0.", signed(zl, w.pki.Issuer), protocol.ClassAmount)

	// Payment requests.
	req := func(f func(r *protocol.PaymentRequest)) Input {
		r := &protocol.PaymentRequest{Version: protocol.Version, Payee: *w.payee, Amount: 1250, Currency: "EUR",
			Nonce: nonce("request"), Expiry: prototest.Epoch + 300, Name: "Corner Shop"}
		f(r)
		must(r.Sign(w.payeeKey))
		return Input{EnvelopeHex: hexOf(protocol.Seal(r))}
	}
	add("payment-request-name-too-long", "payment_request", "A 33-byte display name (limit 32), checked before whether it is the certified name.",
		req(func(r *protocol.PaymentRequest) { r.Name = "Corner Shop and Late-Night Bakery" }), protocol.ClassBadField)
	add("payment-request-name-not-utf8", "payment_request", "A display name that is not UTF-8 (CBOR text strings must be).",
		req(func(r *protocol.PaymentRequest) { r.Name = "Caf\xe9" }), protocol.ClassMalformed)
	add("payment-request-pairing-without-channel", "payment_request", "A pairing secret with no channel key.",
		req(func(r *protocol.PaymentRequest) { _, r.Pairing = channel() }), protocol.ClassBadField)
	add("payment-request-address-without-channel", "payment_request", "A channel address with no channel key.",
		req(func(r *protocol.PaymentRequest) { r.Address = tcpAddress("192.0.2.10:8421") }), protocol.ClassBadField)
	withAddress := func(a []byte) func(r *protocol.PaymentRequest) {
		return func(r *protocol.PaymentRequest) { r.ChannelKey, r.Pairing = channel(); r.Address = a }
	}
	add("payment-request-address-unknown-kind", "payment_request", "A channel address of kind 9 (1 TCP/IPv4, 2 TCP/IPv6, 3 Bluetooth LE are defined).",
		req(withAddress([]byte{9, 192, 0, 2, 10, 0x20, 0xe5})), protocol.ClassBadField)
	add("payment-request-address-wrong-length", "payment_request", "A TCP/IPv4 channel address of 6 bytes (7: kind, 4-byte address, 2-byte port).",
		req(withAddress([]byte{protocol.AddrTCP4, 192, 0, 2, 10, 0x20})), protocol.ClassBadField)
	add("payment-request-address-port-zero", "payment_request", "A TCP/IPv4 channel address with port 0.",
		req(withAddress([]byte{protocol.AddrTCP4, 192, 0, 2, 10, 0, 0})), protocol.ClassBadField)
	add("payment-request-address-ipv4-mapped", "payment_request", "A TCP/IPv6 channel address that is IPv4-mapped (::ffff:192.0.2.10): IPv4 has its own kind.",
		req(withAddress(append(append([]byte{protocol.AddrTCP6}, netip.MustParseAddr("::ffff:192.0.2.10").AsSlice()...), 0x20, 0xe5))), protocol.ClassBadField)
	add("payment-request-name-not-certified", "payment_request", "A request claiming the name \"Corner Bank\" while its payee certificate certifies \"Corner Shop\": a payer is shown the certified name only.",
		req(func(r *protocol.PaymentRequest) { r.Name = "Corner Bank" }), protocol.ClassBadField)
	person := w.pki.Device(w.payeeKey, "mallory-01")
	add("payment-request-person-claims-name", "payment_request", "A person's request claiming a shop's name (the person's certificate certifies none).",
		req(func(r *protocol.PaymentRequest) { r.Payee = *person }), protocol.ClassBadField)
	add("payment-request-payee-not-device", "payment_request", "The issuer's certificate as the payee certificate.",
		req(func(r *protocol.PaymentRequest) { r.Payee = *w.pki.Issuer }), protocol.ClassBadField)
	in := req(func(*protocol.PaymentRequest) {})
	var r protocol.PaymentRequest
	must(protocol.OpenAs(mustHex(in.EnvelopeHex), &r))
	r.Amount = 125000
	add("payment-request-tampered-amount", "payment_request", "The requested amount raised after the payee signed.",
		Input{EnvelopeHex: hexOf(protocol.Seal(&r))}, protocol.ClassBadSignature)

	// Receipts and redeems.
	rc := *w.receipt
	rc.Sig = resignUnder(protocol.CtxPayment, rc.SigningInput(), protocol.CtxReceipt, w.payeeKey)
	add("receipt-wrong-context", "receipt", "The receipt's bytes signed by the payee under the payment context.", signed(&rc, w.payee), protocol.ClassBadSignature)
	add("receipt-wrong-signer", "receipt", "A valid receipt checked against the payer's certificate.", signed(w.receipt, w.payer), protocol.ClassBadSignature)
	zr := *w.receipt
	zr.Counter = 0
	must(zr.Sign(w.payeeKey))
	add("receipt-zero-counter", "receipt", "Receipt with log counter 0.", signed(&zr, w.payee), protocol.ClassBadField)
	rd := &protocol.Redeem{Version: protocol.Version, Device: w.payee.ID(), Counter: 2, Currency: "EUR", Time: prototest.Epoch}
	must(rd.Sign(w.payeeKey))
	add("redeem-zero-amount", "redeem", "A redeem of 0.", signed(rd, w.payee), protocol.ClassAmount)

	// A device-signed message naming another device than its signer's certificate (SPEC 7.14).
	wp := *w.payment
	wp.Payer = w.payee.ID()
	must(wp.Sign(w.payerKey))
	add("payment-wrong-payer", "payment", "Signed by the payer's key but naming the payee's device as payer.", signed(&wp, w.payer), protocol.ClassBadSignature)
	wr := *w.receipt
	wr.Payee = w.payer.ID()
	must(wr.Sign(w.payeeKey))
	add("receipt-wrong-payee", "receipt", "Signed by the payee's key but naming the payer's device as payee.", signed(&wr, w.payee), protocol.ClassBadSignature)
	wd := &protocol.Redeem{Version: protocol.Version, Device: w.payer.ID(), Counter: 2, Amount: 1250, Currency: "EUR", Time: prototest.Epoch}
	must(wd.Sign(w.payeeKey))
	add("redeem-wrong-device", "redeem", "Signed by the payee's key but naming the payer's device.", signed(wd, w.payee), protocol.ClassBadSignature)

	// Log entries and uploads.
	e := w.entries[0]
	e.Prev = protocol.Hash{1}
	must(e.Sign(w.payerKey))
	add("log-entry-first-nonzero-prev", "log_entry", "Counter 1 with a non-zero previous hash.", signed(&e, w.payer), protocol.ClassBadChain)
	k := w.entries[1]
	k.Kind = 7
	must(k.Sign(w.payerKey))
	add("log-entry-unknown-kind", "log_entry", "Entry kind 7 (not defined).", signed(&k, w.payer), protocol.ClassBadField)
	tb := w.entries[1]
	tb.Body = append([]byte{}, tb.Body...)
	tb.Body[len(tb.Body)-70] ^= 1
	we := w.entries[1]
	we.Device = w.payee.ID()
	must(we.Sign(w.payerKey))
	add("log-entry-wrong-device", "log_entry", "Signed by the payer's key but naming the payee's device.", signed(&we, w.payer), protocol.ClassBadSignature)
	add("log-entry-tampered-body", "log_entry", "One bit of the recorded payment changed after the SE signed the entry.", signed(&tb, w.payer), protocol.ClassBadSignature)

	upload := func(entries []protocol.LogEntry) Input {
		u := &protocol.SyncUpload{Version: protocol.Version, Device: w.payer.ID(), Time: prototest.Epoch + 3600, Entries: entries}
		must(u.Sign(w.payerKey))
		return signed(u, w.payer)
	}
	add("sync-upload-gap", "sync_upload", "Entries with counters 1 and 3: counter 2 is missing.",
		upload([]protocol.LogEntry{w.entries[0], w.entries[2]}), protocol.ClassBadChain)
	fe := w.entries[2]
	fe.Device = w.payee.ID()
	must(fe.Sign(w.payeeKey))
	add("sync-upload-foreign-entry", "sync_upload", "The third entry names another device.",
		upload([]protocol.LogEntry{w.entries[0], w.entries[1], fe}), protocol.ClassBadField)
	big := w.entries[2]
	big.Body = bytes.Repeat([]byte{0}, 600)
	must(big.Sign(w.payerKey))
	add("sync-upload-entry-oversize", "sync_upload", "An entry whose encoding exceeds the 640-byte log entry limit (a 600-byte body).",
		upload([]protocol.LogEntry{w.entries[0], w.entries[1], big}), protocol.ClassOversize)
	wu := &protocol.SyncUpload{Version: protocol.Version, Device: w.payer.ID(), Time: prototest.Epoch + 3600, Entries: w.entries}
	must(wu.Sign(w.payeeKey))
	add("sync-upload-wrong-signer", "sync_upload", "The payer's upload signed by the payee's key.", signed(wu, w.payer), protocol.ClassBadSignature)

	// Sync results.
	many := make([]uint64, protocol.MaxSyncEntries+1)
	for i := range many {
		many[i] = uint64(i%23 + 1)
	}
	add("sync-result-too-many-missing", "sync_result", "A sync result asking again for 10001 counters (limit 10000): an oversize list.",
		signed(w.syncResult(many), w.pki.Issuer), protocol.ClassOversize)
	sr := w.syncResult(nil)
	sr.Acked = 1000
	add("sync-result-tampered", "sync_result", "The acknowledged counter changed after the ledger signed.", signed(sr, w.pki.Issuer), protocol.ClassBadSignature)
	ro := w.syncResult(nil)
	ro.Cert = []protocol.Certificate{*w.renewal(w.payee, w.payeeKey)}
	must(ro.Sign(w.pki.IssuerKey))
	add("sync-result-renewal-other-device", "sync_result", "A sync result for the payer carrying a renewed certificate for the payee's key.",
		signed(ro, w.pki.Issuer), protocol.ClassBadField)
	r2 := w.syncResult(nil)
	r2.Cert = []protocol.Certificate{*w.renewal(w.payer, w.payerKey), *w.renewal(w.payer, w.payerKey)}
	must(r2.Sign(w.pki.IssuerKey))
	add("sync-result-two-renewals", "sync_result", "A sync result carrying two renewed certificates (at most one).",
		signed(r2, w.pki.Issuer), protocol.ClassOversize)
	rn := w.syncResult(nil)
	rn.Cert = []protocol.Certificate{*w.pki.Issuer}
	must(rn.Sign(w.pki.IssuerKey))
	add("sync-result-renewal-not-device", "sync_result", "A sync result whose renewal slot holds the issuer's certificate (role 2).",
		signed(rn, w.pki.Issuer), protocol.ClassBadField)

	// Enrolment and reserve requests.
	en := &protocol.EnrolmentRequest{Version: protocol.Version, KeyAlg: protocol.AlgEd25519, Key: w.payerKey.PublicKey(),
		Account: "alice-0001", Class: protocol.SEVirtual, Time: prototest.Epoch - 86400}
	must(en.Sign(w.payeeKey))
	add("enrolment-request-not-possessed", "enrolment_request", "A request for the payer's key signed by another key.",
		Input{EnvelopeHex: hexOf(protocol.Seal(en))}, protocol.ClassBadSignature)
	rr := &protocol.ReserveRequest{Version: protocol.Version, Device: w.payee.ID(), RequestID: nonce("reserve"),
		Amount: 50000, Currency: "EUR", Time: prototest.Epoch - 60}
	must(rr.Sign(w.payerKey))
	add("reserve-request-wrong-device", "reserve_request", "Signed by the payer's key but naming the payee's device.", signed(rr, w.payer), protocol.ClassBadSignature)
	return vs
}
