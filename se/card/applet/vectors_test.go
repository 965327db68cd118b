package applet_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

var update = flag.Bool("update", false, "rewrite spec/card/vectors.json")

const vectorFile = "../../../spec/card/vectors.json"

// Vectors is spec/card/vectors.json.
type Vectors struct {
	Comment     string     `json:"comment"`
	AID         string     `json:"aid"`
	PIN         string     `json:"pin"`
	PINTries    int        `json:"pin_tries"`
	StatusWords []SWVector `json:"status_words"`
	Encodings   []Encoding `json:"encodings"`
	Session     []Step     `json:"session"`
}

// SWVector is one SE refusal code and its status word.
type SWVector struct {
	Code string `json:"code"`
	SW   string `json:"sw"`
}

// Encoding is a command's data field for given arguments, and the APDUs
// carrying it (chained when longer than 255 bytes).
type Encoding struct {
	Name    string   `json:"name"`
	Ins     string   `json:"ins"`
	Args    any      `json:"args"`
	Data    string   `json:"data"`
	APDUs   []string `json:"apdus"`
	Comment string   `json:"comment,omitempty"`
}

// Step is one command of a session on a fresh card and the answer it must
// get: the status word, and the data where it does not depend on the
// card's random key.
type Step struct {
	Name string `json:"name"`
	APDU string `json:"apdu"`
	SW   string `json:"sw"`
	Data string `json:"data,omitempty"`
}

func h(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func sw(w uint16) string { return strings.ToUpper(hex.EncodeToString([]byte{byte(w >> 8), byte(w)})) }

func encOf(t *testing.T, v any) []byte {
	b, err := apdu.Enc.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func blocks(cla, ins byte, data []byte) []string {
	var out []string
	for len(data) > apdu.MaxBlock {
		out = append(out, h(apdu.Command{Cla: cla | apdu.Chain, Ins: ins, Data: data[:apdu.MaxBlock]}.Marshal()))
		data = data[apdu.MaxBlock:]
	}
	return append(out, h(apdu.Command{Cla: cla, Ins: ins, Data: data, Le: apdu.MaxResponse}.Marshal()))
}

func build(t *testing.T) Vectors {
	v := Vectors{
		Comment:  "offpay smart-card APDU vectors (spec/card/CARD.md). Regenerate: go test ./se/card/applet -run Vectors -update",
		AID:      h(apdu.AID),
		PIN:      setest.PIN,
		PINTries: 3,
	}
	for _, c := range []se.Code{se.CodeBadPIN, se.CodeLocked} {
		v.StatusWords = append(v.StatusWords, SWVector{string(c), sw(apdu.SWOf(c, 2))})
	}
	for i := 1; ; i++ {
		c := apdu.CodeOf(0x9C00 | uint16(i))
		if c == "" {
			break
		}
		v.StatusWords = append(v.StatusWords, SWVector{string(c), sw(apdu.SWOf(c, 0))})
	}
	var nonce protocol.Nonce
	for i := range nonce {
		nonce[i] = byte(i + 1)
	}
	var sale protocol.Hash
	for i := range sale {
		sale[i] = 0xA0 + byte(i%16)
	}
	msg := bytes.Repeat([]byte{0x5A}, 300) // a stand-in for a message's canonical encoding
	add := func(name string, ins byte, args any, comment string) {
		d := encOf(t, args)
		v.Encodings = append(v.Encodings, Encoding{Name: name, Ins: sw(uint16(apdu.ClaProprietary)<<8 | uint16(ins)), Args: args, Data: h(d), APDUs: blocks(apdu.ClaProprietary, ins, d), Comment: comment})
	}
	add("ENROL", apdu.InsEnrol, apdu.EnrolArgs{Account: "alice", Now: 1700000000}, "")
	add("INSTALL", apdu.InsInstall, apdu.InstallArgs{Cert: msg[:20], Roots: [][]byte{msg[:3]}, Issuers: [][]byte{msg[:2], msg[:1]}, RevList: msg[:4]}, "byte strings stand in for the messages")
	add("APPLY LOAD", apdu.InsApplyLoad, apdu.MessageArgs{Msg: msg[:40]}, "")
	add("RESERVE", apdu.InsReserve, apdu.ReserveArgs{Amount: 5000, ID: nonce, Now: 1700000000}, "")
	add("NEW REQUEST", apdu.InsNewRequest, apdu.RequestArgs{Amount: 1200, Name: "", Expiry: 1700000060, ChannelKey: msg[:32], Pairing: msg[:16], Address: nil, Now: 1700000000}, "")
	add("STANDING REQUEST", apdu.InsStanding, apdu.RequestArgs{Now: 1700000000}, "")
	add("PAY", apdu.InsPay, apdu.PayArgs{Request: msg, Amount: 0, Now: 1700000000}, "a 300-byte request: two chained blocks")
	add("PAY ONLINE", apdu.InsPayOnline, apdu.PayArgs{Request: msg, Amount: 0, Now: 1700000000}, "PAY's arguments; the answer is an OnlinePayment")
	add("RECEIVE", apdu.InsReceive, apdu.MessageArgs{Msg: msg[:200], Now: 1700000001}, "")
	add("CONFIRM RECEIPT", apdu.InsConfirmReceipt, apdu.MessageArgs{Msg: msg[:100], Now: 1700000002}, "")
	add("REFUND", apdu.InsRefund, apdu.RefundArgs{Sale: sale, Amount: 0, Now: 1700000000}, "")
	add("REDEEM", apdu.InsRedeem, apdu.AmountArgs{Amount: 250, Now: 1700000000}, "")
	add("SYNC UPLOAD", apdu.InsSyncUpload, apdu.SinceArgs{Since: 1, Now: 1700000000}, "")
	add("APPLY SYNC RESULT", apdu.InsApplySync, apdu.MessageArgs{Msg: msg[:60]}, "")
	add("SEAL DATA", apdu.InsSealData, apdu.DataArgs{Label: "history", Data: []byte("hello")}, "")
	add("OPEN DATA", apdu.InsOpenData, apdu.DataArgs{Label: "history", Data: msg[:10]}, "")
	add("GET STATUS", apdu.InsStatus, apdu.NowArgs{Now: 1700000000}, "")
	add("LOG", apdu.InsLog, apdu.SinceArgs{Since: 1}, "")
	unlock := encOf(t, apdu.UnlockArgs{Code: "ABCD-EFGH-JKMN-PQRS", PIN: "135790"})
	v.Encodings = append(v.Encodings,
		Encoding{Name: "CHANGE REFERENCE DATA", Ins: sw(uint16(apdu.ClaISO)<<8 | uint16(apdu.InsChangePIN)), Args: "135790", Data: h([]byte("135790")),
			APDUs: []string{h(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsChangePIN, P1: 0x01, P2: 0x80, Data: []byte("135790"), Le: apdu.MaxResponse}.Marshal())}, Comment: "P1 01 P2 80: the new PIN alone, UTF-8, not CBOR"},
		Encoding{Name: "RESET RETRY COUNTER", Ins: sw(uint16(apdu.ClaISO)<<8 | uint16(apdu.InsUnlock)), Args: apdu.UnlockArgs{Code: "ABCD-EFGH-JKMN-PQRS", PIN: "135790"}, Data: h(unlock),
			APDUs: []string{h(apdu.Command{Cla: apdu.ClaISO, Ins: apdu.InsUnlock, P2: 0x80, Data: unlock, Le: apdu.MaxResponse}.Marshal())}, Comment: "P2 80; the unlock code as typed and the new PIN"})
	for _, c := range []struct {
		name string
		ins  byte
	}{{"GET CERTIFICATE", apdu.InsCertificate}, {"PENDING", apdu.InsPending}, {"SALES", apdu.InsSales}, {"GET ATTESTATION", apdu.InsAttestation}, {"NEW UNLOCK CODE", apdu.InsNewUnlockCode}} {
		v.Encodings = append(v.Encodings, Encoding{Name: c.name, Ins: sw(uint16(apdu.ClaProprietary)<<8 | uint16(c.ins)), Args: nil, APDUs: []string{h(apdu.Command{Cla: apdu.ClaProprietary, Ins: c.ins, Le: apdu.MaxResponse}.Marshal())}})
	}
	cmd := func(cla, ins, p1, p2 byte, data []byte, le int) []byte {
		return apdu.Command{Cla: cla, Ins: ins, P1: p1, P2: p2, Data: data, Le: le}.Marshal()
	}
	status := encOf(t, apdu.NowArgs{Now: 1700000000})
	sel := cmd(0, apdu.InsSelect, 4, 0, apdu.AID, 0)
	verify := func(pin string) []byte { return cmd(0, apdu.InsVerify, 0, 0x80, []byte(pin), 0) }
	seal := encOf(t, apdu.DataArgs{Label: "history", Data: bytes.Repeat([]byte{0x11}, 400)})
	steps := []struct {
		name string
		apdu []byte
	}{
		{"GET STATUS before SELECT", cmd(0x80, apdu.InsStatus, 0, 0, status, 256)},
		{"RESET RETRY COUNTER before SELECT", cmd(0, apdu.InsUnlock, 0, 0x80, unlock, 0)},
		{"SELECT another AID", cmd(0, apdu.InsSelect, 4, 0, []byte{0xA0, 0, 0, 0, 1}, 0)},
		{"SELECT with P1 0", cmd(0, apdu.InsSelect, 0, 0, apdu.AID, 0)},
		{"SELECT the applet", sel},
		{"GET STATUS before VERIFY", cmd(0x80, apdu.InsStatus, 0, 0, status, 256)},
		{"VERIFY without data: tries left", cmd(0, apdu.InsVerify, 0, 0x80, nil, 0)},
		{"VERIFY a wrong PIN", verify("000000")},
		{"VERIFY without data after it", cmd(0, apdu.InsVerify, 0, 0x80, nil, 0)},
		{"VERIFY with P2 0", cmd(0, apdu.InsVerify, 0, 0, []byte(setest.PIN), 0)},
		{"VERIFY the PIN", verify(setest.PIN)},
		{"VERIFY without data: verified", cmd(0, apdu.InsVerify, 0, 0x80, nil, 0)},
		{"CHANGE REFERENCE DATA with P1 00", cmd(0, apdu.InsChangePIN, 0, 0x80, []byte("135790"), 0)},
		{"CHANGE REFERENCE DATA to a PIN too short", cmd(0, apdu.InsChangePIN, 1, 0x80, []byte("12"), 0)},
		{"CHANGE REFERENCE DATA to the same PIN", cmd(0, apdu.InsChangePIN, 1, 0x80, []byte(setest.PIN), 0)},
		{"NEW UNLOCK CODE with data", cmd(0x80, apdu.InsNewUnlockCode, 0, 0, status, 256)},
		{"VERIFY the PIN again", verify(setest.PIN)},
		{"GET CERTIFICATE before INSTALL: none", cmd(0x80, apdu.InsCertificate, 0, 0, nil, 256)},
		{"PENDING: none", cmd(0x80, apdu.InsPending, 0, 0, nil, 256)},
		{"SALES: none", cmd(0x80, apdu.InsSales, 0, 0, nil, 256)},
		{"GET ATTESTATION on a card made without one", cmd(0x80, apdu.InsAttestation, 0, 0, nil, 256)},
		{"Lc above the data", append(cmd(0x80, apdu.InsStatus, 0, 0, status, 0), 0)[:len(status)+4]},
		{"extended length", []byte{0x80, apdu.InsStatus, 0, 0, 0, 0, byte(len(status))}},
		{"three bytes", []byte{0x80, apdu.InsStatus, 0}},
		{"unknown INS", cmd(0x80, 0x60, 0, 0, status, 256)},
		{"unknown CLA", cmd(0x40, apdu.InsStatus, 0, 0, status, 256)},
		{"P1 not 0", cmd(0x80, apdu.InsStatus, 1, 0, status, 256)},
		{"data not CBOR", cmd(0x80, apdu.InsStatus, 0, 0, []byte{0xFF}, 256)},
		{"data not canonical", cmd(0x80, apdu.InsStatus, 0, 0, []byte{0x81, 0x18, 0x05}, 256)},
		{"data of another command", cmd(0x80, apdu.InsStatus, 0, 0, encOf(t, apdu.SinceArgs{Since: 1, Now: 2}), 256)},
		{"GET RESPONSE with nothing pending", cmd(0, apdu.InsGetResponse, 0, 0, nil, 256)},
		{"ENROL with another's data: refused before the SE", cmd(0x80, apdu.InsEnrol, 0, 0, status, 256)},
		{"RECEIVE of a message that is not a bundle", cmd(0x80, apdu.InsReceive, 0, 0, encOf(t, apdu.MessageArgs{Msg: []byte{0x80}, Now: 1}), 256)},
		{"REDEEM before INSTALL", cmd(0x80, apdu.InsRedeem, 0, 0, encOf(t, apdu.AmountArgs{Amount: 1, Now: 1}), 256)},
		{"a chain's first block", cmd(0x90, apdu.InsSealData, 0, 0, seal[:255], 0)},
		{"the chain broken off by another INS", cmd(0x80, apdu.InsStatus, 0, 0, status, 256)},
		{"a chain's first block again", cmd(0x90, apdu.InsSealData, 0, 0, seal[:255], 0)},
		{"its last block: 256 bytes and more to come", cmd(0x80, apdu.InsSealData, 0, 0, seal[255:], 256)},
		{"GET RESPONSE: the rest", cmd(0, apdu.InsGetResponse, 0, 0, nil, 256)},
		{"VERIFY a wrong PIN", verify("000000")},
		{"VERIFY a wrong PIN", verify("000000")},
		{"VERIFY a wrong PIN: the last try", verify("000000")},
		{"VERIFY the right PIN: locked", verify(setest.PIN)},
		{"VERIFY without data: locked", cmd(0, apdu.InsVerify, 0, 0x80, nil, 0)},
		{"GET STATUS on a locked card", cmd(0x80, apdu.InsStatus, 0, 0, status, 256)},
		{"CHANGE REFERENCE DATA on a locked card", cmd(0, apdu.InsChangePIN, 1, 0x80, []byte("135790"), 0)},
		{"RESET RETRY COUNTER with data not CBOR", cmd(0, apdu.InsUnlock, 0, 0x80, []byte("ABCD-EFGH-JKMN-PQRS"), 0)},
		{"RESET RETRY COUNTER with P1 01", cmd(0, apdu.InsUnlock, 1, 0x80, unlock, 0)},
		{"RESET RETRY COUNTER with a wrong code: no tries left", cmd(0, apdu.InsUnlock, 0, 0x80, unlock, 0)},
		{"VERIFY without data: still locked", cmd(0, apdu.InsVerify, 0, 0x80, nil, 0)},
	}
	a := fresh(t)
	for _, s := range steps {
		r, err := apdu.ParseResponse(a.Process(s.apdu))
		if err != nil {
			t.Fatal(err)
		}
		st := Step{Name: s.name, APDU: h(s.apdu), SW: sw(r.SW)}
		if r.SW == apdu.SWOK && len(r.Data) > 0 && len(r.Data) < 8 {
			st.Data = h(r.Data) // empty lists; other answers hold the card's random key
		}
		v.Session = append(v.Session, st)
	}
	return v
}

func fresh(t *testing.T) *applet.Applet {
	dir := filepath.Join(t.TempDir(), "se")
	if _, err := vse.Create(dir, setest.PIN, setest.Options(&vse.Options{MaxPINTries: 3})); err != nil {
		t.Fatal(err)
	}
	return applet.New(dir, setest.Options(&vse.Options{MaxPINTries: 3}))
}

// TestVectors checks spec/card/vectors.json: the encodings and status
// words this code produces, and the answers of a fresh card to the
// session, step by step.
func TestVectors(t *testing.T) {
	got, err := json.MarshalIndent(build(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(vectorFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("spec/card/vectors.json differs from what the code produces (go test ./se/card/applet -run Vectors -update, then review the diff)")
	}
	// Independently of the generator: a fresh card answers the file's
	// session as the file says.
	var v Vectors
	if err := json.Unmarshal(want, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Session) < 30 || len(v.StatusWords) < 30 {
		t.Fatalf("%d steps, %d status words", len(v.Session), len(v.StatusWords))
	}
	a := fresh(t)
	for _, s := range v.Session {
		cmd, _ := hex.DecodeString(s.APDU)
		r, _ := apdu.ParseResponse(a.Process(cmd))
		if sw(r.SW) != s.SW || (s.SW == "9000" && len(r.Data) < 8 && h(r.Data) != s.Data) {
			t.Errorf("%s: %s %s, want %s %s", s.Name, h(r.Data), sw(r.SW), s.Data, s.SW)
		}
	}
}
