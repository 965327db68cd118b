package applet_test

import (
	"path/filepath"
	"testing"

	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/applet"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
)

// FuzzProcess sends any bytes as a command to a selected card with the
// PIN verified: the card always answers a status word, and whatever it
// refused left the SE's log and purse as they were.
func FuzzProcess(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "se")
	o := setest.Options(&vse.Options{MaxPINTries: 1 << 20})
	if _, err := vse.Create(dir, setest.PIN, o); err != nil {
		f.Fatal(err)
	}
	a := applet.New(dir, o)
	login := func() {
		a.Reset()
		a.Process(apdu.Command{Ins: apdu.InsSelect, P1: 4, Data: apdu.AID}.Marshal())
		a.Process(apdu.Command{Ins: apdu.InsVerify, P2: 0x80, Data: []byte(setest.PIN)}.Marshal())
	}
	status := apdu.Command{Cla: 0x80, Ins: apdu.InsStatus, Data: []byte{0x81, 0x00}, Le: 256}.Marshal()
	f.Add(status)
	f.Add([]byte{0x80, apdu.InsEnrol, 0, 0, 3, 0x82, 0x61, 0x61})
	f.Add([]byte{0x90, apdu.InsPay, 0, 0, 1, 0x83})
	f.Add([]byte{0x00, apdu.InsGetResponse, 0, 0, 0})
	login()
	before := a.Process(status)
	f.Fuzz(func(t *testing.T, cmd []byte) {
		login()
		r := a.Process(cmd)
		if len(r) < 2 {
			t.Fatalf("%X answered %X", cmd, r)
		}
		sw := uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
		if sw == apdu.SWOK || sw&0xFF00 == apdu.SWMoreData {
			return // a command that did something: ENROL makes the key's request, SEAL DATA seals
		}
		login()
		if after := a.Process(status); string(after) != string(before) {
			t.Fatalf("%X was refused (%04X) but the status changed", cmd, sw)
		}
	})
}
