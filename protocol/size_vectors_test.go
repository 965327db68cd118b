package protocol_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/protocol/prototest"
)

// sizeCase is one row of SPEC.md's size table: a message with typical
// values (Ed25519 and P-256 signers) and with every field at the largest
// value its domain allows.
type sizeCase struct {
	name         string
	typ          protocol.Type
	ed, p256, mx protocol.Message
}

const u64 = math.MaxUint64

func maxLimits() protocol.Limits {
	return protocol.Limits{Holding: protocol.MaxAmount, PerPayment: protocol.MaxAmount, MaxOfflineCount: u64,
		MaxOfflineValue: protocol.MaxAmount, MaxOfflineDays: u64, MaxRevListAge: u64, MaxHops: u64, MinPIN: u64}
}

func sig(a protocol.Alg) ([]byte, protocol.Alg) { return make([]byte, protocol.SigSize), a }

func sizeCases(t testing.TB) []sizeCase {
	ed := prototest.Ed25519Key("size-ed")
	p := prototest.P256Key("size-p256")
	pki := prototest.NewPKI("size")
	devEd, devP := pki.Device(ed, "alice-0001"), pki.Device(p, "alice-0001")
	s, alg := sig(protocol.AlgECDSAP256)
	mxCert := protocol.Certificate{Version: 1, Role: protocol.RoleDevice, Serial: u64, KeyAlg: alg, Key: p.PublicKey(),
		NotBefore: u64 - 1, NotAfter: u64, Account: strings.Repeat("a", protocol.MaxAccountLen), Class: protocol.SETEE,
		Currency: strings.Repeat("X", protocol.MaxCurrencyLen), Limits: maxLimits(), Name: strings.Repeat("n", protocol.MaxCertNameLen),
		SigAlg: alg, Sig: s}
	cur := strings.Repeat("X", protocol.MaxCurrencyLen)
	// The payee of a typical request: a merchant's device certified as
	// "Corner Shop" (11 bytes). Its request claims no name of its own.
	shopEd, shopP := pki.Merchant(ed, "shop-0001", "Corner Shop"), pki.Merchant(p, "shop-0001", "Corner Shop")

	pay := func(dev *protocol.Certificate, k protocol.Signer) *protocol.Payment {
		x := &protocol.Payment{Version: 1, Payer: dev.ID(), Payee: devEd.ID(), Amount: 1250, Currency: "EUR", Counter: 42,
			Nonce: protocol.Nonce{1}, Time: prototest.Epoch, Hops: 1}
		if err := x.Sign(k); err != nil {
			t.Fatal(err)
		}
		return x
	}
	mxPay := &protocol.Payment{Version: 1, Amount: protocol.MaxAmount, Currency: cur, Counter: u64, Time: u64, Hops: u64, SigAlg: alg, Sig: s}
	payEd, payP := pay(devEd, ed), pay(devP, p)

	req := func(payee *protocol.Certificate, k protocol.Signer) *protocol.PaymentRequest {
		x := &protocol.PaymentRequest{Version: 1, Payee: *payee, Amount: 1250, Currency: "EUR", Expiry: prototest.Epoch + 300,
			ChannelKey: make([]byte, 32), Pairing: make([]byte, 32), Address: []byte{protocol.AddrTCP4, 192, 168, 1, 20, 0x20, 0xe5}}
		x.ChannelKey[0] = 9
		if err := x.Sign(k); err != nil {
			t.Fatal(err)
		}
		return x
	}
	mxReq := &protocol.PaymentRequest{Version: 1, Payee: mxCert, Amount: protocol.MaxAmount, Currency: cur, Expiry: u64,
		Name: mxCert.Name, ChannelKey: make([]byte, 32), Pairing: make([]byte, 32),
		Address: append([]byte{protocol.AddrTCP6}, make([]byte, 18)...), SigAlg: alg, Sig: s}

	signed := func(m interface {
		protocol.Message
		Sign(protocol.Signer) error
	}, k protocol.Signer) protocol.Message {
		if err := m.Sign(k); err != nil {
			t.Fatal(err)
		}
		return m
	}
	load := func() *protocol.Load {
		return &protocol.Load{Version: 1, Device: devEd.ID(), Seq: 3, Amount: 50000, Currency: "EUR", Time: prototest.Epoch, Signer: pki.Issuer.ID()}
	}
	rcpt := func() *protocol.Receipt {
		return &protocol.Receipt{Version: 1, Payment: payEd.ID(), Payee: devEd.ID(), Counter: 12, Time: prototest.Epoch}
	}
	redeem := func() *protocol.Redeem {
		return &protocol.Redeem{Version: 1, Device: devEd.ID(), Counter: 13, Amount: 1250, Currency: "EUR", Time: prototest.Epoch}
	}
	entry := func(k protocol.Signer, body []byte) *protocol.LogEntry {
		return &protocol.LogEntry{Version: 1, Device: devEd.ID(), Counter: 42, Prev: protocol.Hash{1}, Kind: protocol.EntryPay,
			Time: prototest.Epoch, Body: body}
	}
	enrol := func(k protocol.Signer) *protocol.EnrolmentRequest {
		return &protocol.EnrolmentRequest{Version: 1, KeyAlg: k.Alg(), Key: k.PublicKey(), Account: "alice-0001", Class: protocol.SEVirtual, Time: prototest.Epoch}
	}
	reserve := func() *protocol.ReserveRequest {
		return &protocol.ReserveRequest{Version: 1, Device: devEd.ID(), Amount: 50000, Currency: "EUR", Time: prototest.Epoch}
	}
	rl := func() *protocol.RevocationList {
		return &protocol.RevocationList{Version: 1, Number: 12, Issued: prototest.Epoch, Signer: pki.Issuer.ID(), Revoked: []protocol.KeyID{{1}}}
	}
	// The largest entry body is a received PaymentBundle.
	mxBundle := (&protocol.PaymentBundle{Payment: *mxPay, Cert: mxCert}).Marshal()
	// A refund (SPEC 7.5.1): from the shop's device back to the payer,
	// naming the sale; the largest refund bundle carries the largest
	// certificate, a merchant's with the longest name.
	refund := func(shop *protocol.Certificate, k protocol.Signer) *protocol.Payment {
		x := &protocol.Payment{Version: 1, Payer: shop.ID(), Payee: devEd.ID(), Amount: 1250, Currency: "EUR", Counter: 42,
			Sale: payEd.ID(), Time: prototest.Epoch, Hops: 1}
		if err := x.Sign(k); err != nil {
			t.Fatal(err)
		}
		return x
	}
	mxRefund := *mxPay
	mxRefund.Sale, mxRefund.Hops = protocol.Hash{1}, 1
	refEd, refP := refund(shopEd, ed), refund(shopP, p)
	mxRefundBundle := &protocol.PaymentBundle{Payment: mxRefund, Cert: mxCert}
	refEntry := func(k protocol.Signer, b *protocol.PaymentBundle) protocol.Message {
		return signed(&protocol.LogEntry{Version: 1, Device: devEd.ID(), Counter: 43, Prev: protocol.Hash{1}, Kind: protocol.EntryReceive,
			Time: prototest.Epoch, Body: b.Marshal()}, k)
	}
	return []sizeCase{
		{"Certificate (device)", protocol.TypeCertificate, devEd, devP, &mxCert},
		{"Load", protocol.TypeLoad, signed(load(), ed), signed(load(), p), &protocol.Load{Version: 1, Seq: u64, Amount: protocol.MaxAmount, Currency: cur, Time: u64, SigAlg: alg, Sig: s}},
		{"PaymentRequest (with channel)", protocol.TypeRequest, req(shopEd, ed), req(shopP, p), mxReq},
		{"Payment", protocol.TypePayment, payEd, payP, mxPay},
		{"PaymentBundle", protocol.TypeBundle, &protocol.PaymentBundle{Payment: *payEd, Cert: *devEd},
			&protocol.PaymentBundle{Payment: *payP, Cert: *devP}, &protocol.PaymentBundle{Payment: *mxPay, Cert: mxCert}},
		{"Receipt", protocol.TypeReceipt, signed(rcpt(), ed), signed(rcpt(), p), &protocol.Receipt{Version: 1, Counter: u64, Time: u64, SigAlg: alg, Sig: s}},
		{"Redeem", protocol.TypeRedeem, signed(redeem(), ed), signed(redeem(), p), &protocol.Redeem{Version: 1, Counter: u64, Amount: protocol.MaxAmount, Currency: cur, Time: u64, SigAlg: alg, Sig: s}},
		{"LogEntry (pay)", protocol.TypeLogEntry, signed(entry(ed, payEd.Marshal()), ed), signed(entry(p, payP.Marshal()), p),
			&protocol.LogEntry{Version: 1, Counter: u64, Kind: protocol.EntryReceive, Time: u64, Body: mxBundle, SigAlg: alg, Sig: s}},
		{"EnrolmentRequest", protocol.TypeEnrolment, signed(enrol(ed), ed), signed(enrol(p), p),
			&protocol.EnrolmentRequest{Version: 1, KeyAlg: alg, Key: p.PublicKey(), Account: strings.Repeat("a", protocol.MaxAccountLen), Class: protocol.SETEE, Time: u64, SigAlg: alg, Sig: s}},
		{"ReserveRequest", protocol.TypeReserve, signed(reserve(), ed), signed(reserve(), p),
			&protocol.ReserveRequest{Version: 1, Amount: protocol.MaxAmount, Currency: cur, Time: u64, SigAlg: alg, Sig: s}},
		{"RevocationList (1 key)", protocol.TypeRevocationList, signed(rl(), ed), signed(rl(), p),
			&protocol.RevocationList{Version: 1, Number: u64, Issued: u64, Revoked: []protocol.KeyID{{1}}, SigAlg: alg, Sig: s}},
		{"LogEntry (receive)", protocol.TypeLogEntry, signed(recv(ed, payEd, devEd), ed), signed(recv(p, payP, devP), p), nil},
		{"SyncUpload (3 entries: load, pay, receive)", protocol.TypeSyncUpload, upload(ed, payEd, devEd), upload(p, payP, devP), nil},
		{"SyncResult (1 status, 1 load, empty list)", protocol.TypeSyncResult, result(ed), result(p), nil},
		{"Payment (refund)", protocol.TypePayment, refEd, refP, &mxRefund},
		{"PaymentBundle (refund, merchant's certificate)", protocol.TypeBundle, &protocol.PaymentBundle{Payment: *refEd, Cert: *shopEd},
			&protocol.PaymentBundle{Payment: *refP, Cert: *shopP}, mxRefundBundle},
		{"LogEntry (receive a refund)", protocol.TypeLogEntry, refEntry(ed, &protocol.PaymentBundle{Payment: *refEd, Cert: *shopEd}),
			refEntry(ed, &protocol.PaymentBundle{Payment: *refP, Cert: *shopP}),
			&protocol.LogEntry{Version: 1, Counter: u64, Kind: protocol.EntryReceive, Time: u64, Body: mxRefundBundle.Marshal(), SigAlg: alg, Sig: s}},
		{"OnlinePayment (its request with channel)", protocol.TypeOnlinePayment, online(ed, req(shopEd, ed)), online(p, req(shopP, p)),
			&protocol.OnlinePayment{Version: 1, Request: *mxReq, Amount: protocol.MaxAmount, Currency: cur, Time: u64, SigAlg: alg, Sig: s}},
		{"OnlineReceipt", protocol.TypeOnlineReceipt, signed(onlineRcpt(), ed), signed(onlineRcpt(), p),
			&protocol.OnlineReceipt{Version: 1, Amount: protocol.MaxAmount, Currency: cur, Time: u64, SigAlg: alg, Sig: s}},
	}
}

// online is devEd's online payment of req.
func online(k protocol.Signer, req *protocol.PaymentRequest) protocol.Message {
	x := &protocol.OnlinePayment{Version: 1, Payer: protocol.KeyID{1}, Request: *req, Amount: req.Amount, Currency: "EUR", Time: prototest.Epoch}
	if err := x.Sign(k); err != nil {
		panic(err)
	}
	return x
}

func onlineRcpt() *protocol.OnlineReceipt {
	return &protocol.OnlineReceipt{Version: 1, Payment: protocol.Hash{1}, Payer: protocol.KeyID{2}, Payee: protocol.KeyID{3}, Nonce: protocol.Nonce{4},
		Amount: 1250, Currency: "EUR", Time: prototest.Epoch, Signer: protocol.KeyID{5}}
}

func recv(k protocol.Signer, pay *protocol.Payment, dev *protocol.Certificate) *protocol.LogEntry {
	return &protocol.LogEntry{Version: 1, Device: pay.Payee, Counter: 43, Prev: protocol.Hash{1}, Kind: protocol.EntryReceive,
		Time: prototest.Epoch, Body: (&protocol.PaymentBundle{Payment: *pay, Cert: *dev}).Marshal()}
}

func upload(k protocol.Signer, pay *protocol.Payment, dev *protocol.Certificate) protocol.Message {
	ld := &protocol.Load{Version: 1, Device: dev.ID(), Seq: 3, Amount: 50000, Currency: "EUR", Time: prototest.Epoch, SigAlg: k.Alg(), Sig: make([]byte, 64)}
	es := []protocol.LogEntry{
		{Version: 1, Device: dev.ID(), Counter: 41, Kind: protocol.EntryLoad, Time: prototest.Epoch, Body: ld.Marshal()},
		{Version: 1, Device: dev.ID(), Counter: 42, Kind: protocol.EntryPay, Time: prototest.Epoch, Body: pay.Marshal()},
		*recv(k, pay, dev),
	}
	u := &protocol.SyncUpload{Version: 1, Device: dev.ID(), Time: prototest.Epoch}
	for _, e := range es {
		e.Device, e.Prev = dev.ID(), protocol.Hash{1}
		if err := e.Sign(k); err != nil {
			panic(err)
		}
		u.Entries = append(u.Entries, e)
	}
	if err := u.Sign(k); err != nil {
		panic(err)
	}
	return u
}

func result(k protocol.Signer) protocol.Message {
	ld := protocol.Load{Version: 1, Seq: 3, Amount: 50000, Currency: "EUR", Time: prototest.Epoch, SigAlg: k.Alg(), Sig: make([]byte, 64)}
	r := &protocol.SyncResult{Version: 1, Acked: 43, Time: prototest.Epoch, Statuses: []protocol.PaymentStatus{{Status: protocol.StatusSettled}},
		Loads: []protocol.Load{ld}, RevList: protocol.RevocationList{Version: 1, Number: 12, Issued: prototest.Epoch, SigAlg: k.Alg(), Sig: make([]byte, 64)}}
	if err := r.Sign(k); err != nil {
		panic(err)
	}
	return r
}

// TestSizeTable checks that every message at its largest valid values is
// within its decoder's limit (so no valid message is refused as oversize),
// that typical messages decode, and logs SPEC.md's size table (go test -v).
func TestSizeTable(t *testing.T) {
	var tab strings.Builder
	fmt.Fprintf(&tab, "\n| message | Ed25519 | P-256 | maximum | limit |\n|---|---|---|---|---|\n")
	for _, c := range sizeCases(t) {
		for _, m := range []protocol.Message{c.ed, c.p256} {
			if _, err := protocol.Open(protocol.Seal(m)); err != nil {
				t.Errorf("%s: typical message refused: %v", c.name, err)
			}
		}
		mx := "see limit"
		if c.mx != nil {
			n := len(c.mx.Marshal())
			if lim := protocol.MaxSize(c.typ); n > lim {
				t.Errorf("%s: largest valid message is %d bytes, decoder limit %d", c.name, n, lim)
			}
			mx = fmt.Sprint(n)
		}
		fmt.Fprintf(&tab, "| %s | %d | %d | %s | %d |\n", c.name, len(c.ed.Marshal()), len(c.p256.Marshal()), mx, protocol.MaxSize(c.typ))
	}
	t.Log("sizes in bytes without the 1-byte envelope type:" + tab.String())
}

// TestBundleBudgetRealisticMaximum checks the QR budget for the largest
// bundle an issuer with ordinary policy values can produce: P-256 key,
// 16-byte account, 3-letter currency, amounts, counters, serials and times
// below 2^32 (times up to the year 2106), at most 255 offline days and
// 65535 offline payments, at most 23 hops and a PIN minimum of at most 23
// (the ledger's ceiling: one byte each). With every field at 2^32-1 the
// bundle is 335 bytes, over: SPEC.md ("Size budget") tells issuers which fields to keep
// small.
func TestBundleBudgetRealisticMaximum(t *testing.T) {
	const u32 = math.MaxUint32
	p := prototest.P256Key("size-p256")
	s, alg := sig(protocol.AlgECDSAP256)
	c := protocol.Certificate{Version: 1, Role: protocol.RoleDevice, Serial: u32, KeyAlg: alg, Key: p.PublicKey(),
		NotBefore: u32 - 1, NotAfter: u32, Account: strings.Repeat("a", protocol.MaxAccountLen), Class: protocol.SETEE,
		Currency: "EUR", Limits: protocol.Limits{Holding: u32, PerPayment: u32, MaxOfflineCount: 65535, MaxOfflineValue: u32,
			MaxOfflineDays: 255, MaxRevListAge: u32, MaxHops: 23, MinPIN: 23}, SigAlg: alg, Sig: s}
	pay := protocol.Payment{Version: 1, Amount: u32, Currency: "EUR", Counter: u32, Time: u32, Hops: 1, SigAlg: alg, Sig: s}
	env := protocol.Seal(&protocol.PaymentBundle{Payment: pay, Cert: c})
	t.Logf("realistic maximum bundle envelope: %d bytes", len(env))
	if len(env) > protocol.QRBudgetPaymentCert {
		t.Fatalf("%d bytes, budget %d", len(env), protocol.QRBudgetPaymentCert)
	}
}
