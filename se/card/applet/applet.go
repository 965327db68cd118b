// Package applet is the card side of the SE as a smart card: the virtual
// SE (se/vse) behind the APDU interface of spec/card/CARD.md. It is what
// a JavaCard applet would implement; here it runs in the card process.
package applet

import (
	"bytes"
	"errors"
	"sync"

	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/apdu"
	"github.com/offpay/offpay/se/card/attest"
	"github.com/offpay/offpay/se/vse"
)

// Applet answers command APDUs for the virtual SE in one folder. The PIN
// opens the SE (VERIFY); a reset or a new SELECT closes it again. Its
// methods are safe for concurrent use, but a card serves one command at a
// time.
type Applet struct {
	mu   sync.Mutex
	dir  string
	opts *vse.Options

	selected bool
	v        *vse.VSE // nil until VERIFY succeeds
	att      []byte   // the attestation's encoding, if the card has one
	// the command chain being received
	chaining bool
	chainHdr [3]byte // CLA (without the chain bit), INS, P1
	chainP2  byte
	chain    []byte
	// out is the rest of a long answer, for GET RESPONSE.
	out []byte
	// AfterExecute, if set, runs after a command changed the SE and before
	// its answer leaves: tests pull the card out there.
	AfterExecute func(ins byte)
}

// New returns the applet of the virtual SE in dir (made by vse.Create).
// If dir holds an attestation (se/card/attest), the card answers GET
// ATTESTATION with it and its SE claims the attested class at enrolment;
// else it enrols as class 1.
func New(dir string, opts *vse.Options) *Applet {
	a := &Applet{dir: dir, opts: opts}
	if att, err := attest.Read(dir); err == nil && att != nil {
		o := vse.Options{}
		if opts != nil {
			o = *opts
		}
		o.Class = att.Class
		a.opts, a.att = &o, att.Marshal()
	}
	return a
}

// Reset is a card reset or power cycle: nothing selected, the PIN to be
// verified again, any chain or pending answer dropped.
func (a *Applet) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.selected, a.v = false, nil
	a.dropChain()
	a.out = nil
}

func (a *Applet) dropChain() {
	a.chaining, a.chain = false, nil
}

// Process answers one command APDU with one response APDU.
func (a *Applet) Process(cmd []byte) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.process(cmd).Marshal()
}

func sw(w uint16) apdu.Response { return apdu.Response{SW: w} }

func (a *Applet) process(raw []byte) apdu.Response {
	c, err := apdu.Parse(raw)
	if err != nil {
		a.dropChain()
		a.out = nil
		return sw(apdu.SWWrongLength)
	}
	cla := c.Cla &^ apdu.Chain
	if cla == apdu.ClaISO && c.Ins == apdu.InsGetResponse && c.Cla&apdu.Chain == 0 {
		return a.getResponse(c)
	}
	a.out = nil
	if cla != apdu.ClaISO && cla != apdu.ClaProprietary {
		a.dropChain()
		return sw(apdu.SWClaNotSupp)
	}
	// Command chaining (ISO/IEC 7816-4 5.4.1): every block but the last
	// has the chain bit; all share CLA, INS, P1 and P2.
	hdr := [3]byte{cla, c.Ins, c.P1}
	if a.chaining && (hdr != a.chainHdr || c.P2 != a.chainP2) {
		a.dropChain()
		return sw(apdu.SWChainLast)
	}
	if c.Cla&apdu.Chain != 0 {
		if !a.chaining {
			a.chaining, a.chainHdr, a.chainP2 = true, hdr, c.P2
		}
		if len(a.chain)+len(c.Data) > apdu.MaxMessage {
			a.dropChain()
			return sw(apdu.SWNoMemory)
		}
		a.chain = append(a.chain, c.Data...)
		return sw(apdu.SWOK)
	}
	if a.chaining {
		c.Data = append(a.chain, c.Data...)
		a.dropChain()
		if len(c.Data) > apdu.MaxMessage {
			return sw(apdu.SWNoMemory)
		}
	}
	r := a.execute(cla, c)
	return a.answer(r, c.Le)
}

// answer sends at most le bytes of r's data (256 when le is 0) and keeps
// the rest for GET RESPONSE, signalled by 61xx.
func (a *Applet) answer(r apdu.Response, le int) apdu.Response {
	if r.SW != apdu.SWOK {
		return r
	}
	if le == 0 {
		le = apdu.MaxResponse
	}
	if len(r.Data) <= le {
		return r
	}
	a.out = r.Data[le:]
	return apdu.Response{Data: r.Data[:le], SW: moreData(len(a.out))}
}

func moreData(n int) uint16 {
	if n >= apdu.MaxResponse {
		return apdu.SWMoreData
	}
	return apdu.SWMoreData | uint16(n)
}

func (a *Applet) getResponse(c apdu.Command) apdu.Response {
	a.dropChain()
	if c.P1 != 0 || c.P2 != 0 {
		a.out = nil
		return sw(apdu.SWWrongP1P2)
	}
	if len(a.out) == 0 {
		return sw(apdu.SWNoState)
	}
	out := a.out
	a.out = nil
	return a.answer(apdu.Response{Data: out, SW: apdu.SWOK}, c.Le)
}

func (a *Applet) execute(cla byte, c apdu.Command) apdu.Response {
	if cla == apdu.ClaISO {
		switch c.Ins {
		case apdu.InsSelect:
			return a.selectApp(c)
		case apdu.InsVerify, apdu.InsChangePIN, apdu.InsUnlock:
			if !a.selected {
				return sw(apdu.SWNoState)
			}
			switch c.Ins {
			case apdu.InsChangePIN:
				return a.changePIN(c)
			case apdu.InsUnlock:
				return a.unlock(c)
			}
			return a.verify(c)
		}
		return sw(apdu.SWInsNotSupp)
	}
	if c.Ins == apdu.InsAttestation {
		return a.attestation(c)
	}
	op, ok := ops[c.Ins]
	if !ok {
		return sw(apdu.SWInsNotSupp)
	}
	if !a.selected {
		return sw(apdu.SWNoState)
	}
	if c.P1 != 0 || c.P2 != 0 {
		return sw(apdu.SWWrongP1P2)
	}
	if a.v == nil {
		return sw(apdu.SWNotVerified)
	}
	out, err := op(a.v, c.Data)
	if a.AfterExecute != nil {
		a.AfterExecute(c.Ins)
	}
	if err != nil {
		var bad *badData
		if errors.As(err, &bad) {
			return apdu.Response{SW: apdu.SWWrongData}
		}
		return apdu.RefusalOf(err, 0)
	}
	return apdu.Response{Data: out, SW: apdu.SWOK}
}

func (a *Applet) selectApp(c apdu.Command) apdu.Response {
	if c.P1 != 0x04 || (c.P2 != 0x00 && c.P2 != 0x0C) {
		return sw(apdu.SWWrongP1P2)
	}
	// Selecting again starts a new session: the PIN is asked again.
	a.selected, a.v = false, nil
	if !bytes.Equal(c.Data, apdu.AID) {
		return sw(apdu.SWNotFound)
	}
	a.selected = true
	return sw(apdu.SWOK)
}

// verify is VERIFY (P2 0x80: the PIN of the SE). Without data it tells
// whether the PIN is verified (9000) or how many tries are left (63Cx,
// 6983 when none).
func (a *Applet) verify(c apdu.Command) apdu.Response {
	if c.P1 != 0 || c.P2 != 0x80 {
		return sw(apdu.SWWrongP1P2)
	}
	if len(c.Data) == 0 {
		if a.v != nil {
			return sw(apdu.SWOK)
		}
		left, err := vse.TriesLeft(a.dir, a.opts)
		if err != nil {
			return apdu.RefusalOf(err, 0)
		}
		if left == 0 {
			return sw(apdu.SWLocked)
		}
		return sw(apdu.SWWrongPIN | uint16(min(left, 15)))
	}
	a.v = nil
	v, err := vse.Open(a.dir, string(c.Data), a.opts)
	if err != nil {
		left := 0
		if se.CodeOf(err) == se.CodeBadPIN {
			left, _ = vse.TriesLeft(a.dir, a.opts) // 63C0: that was the last try
		}
		return apdu.RefusalOf(err, left)
	}
	a.v = v
	return sw(apdu.SWOK)
}

// attestation is GET ATTESTATION: public, so no PIN is needed.
func (a *Applet) attestation(c apdu.Command) apdu.Response {
	switch {
	case !a.selected:
		return sw(apdu.SWNoState)
	case c.P1 != 0 || c.P2 != 0:
		return sw(apdu.SWWrongP1P2)
	case len(c.Data) != 0:
		return sw(apdu.SWWrongLength)
	case a.att == nil:
		return sw(apdu.SWNoData)
	}
	return apdu.Response{Data: a.att, SW: apdu.SWOK}
}

// changePIN is CHANGE REFERENCE DATA with P1 01 (the new PIN only: the
// current one was verified in this session). The answer is the SE's first
// unlock code if it had none (an SE made before they existed), else no
// data.
func (a *Applet) changePIN(c apdu.Command) apdu.Response {
	if c.P1 != 0x01 || c.P2 != 0x80 {
		return sw(apdu.SWWrongP1P2)
	}
	if a.v == nil {
		return sw(apdu.SWNotVerified)
	}
	if len(c.Data) == 0 {
		return sw(apdu.SWWrongData)
	}
	code, err := a.v.ChangePIN(string(c.Data))
	if a.AfterExecute != nil {
		a.AfterExecute(c.Ins)
	}
	if err != nil {
		return apdu.RefusalOf(err, 0)
	}
	return apdu.Response{Data: []byte(code), SW: apdu.SWOK}
}

// unlock is RESET RETRY COUNTER: the unlock code sets a new PIN, ends a
// lockout and leaves the PIN verified. It needs no VERIFY (it is for a
// locked card). A refusal (a wrong code: 63CX with the PIN tries left,
// not counted) changes nothing, the session's verified PIN included.
func (a *Applet) unlock(c apdu.Command) apdu.Response {
	if c.P1 != 0 || c.P2 != 0x80 {
		return sw(apdu.SWWrongP1P2)
	}
	var u apdu.UnlockArgs
	if err := args(c.Data, &u); err != nil {
		return sw(apdu.SWWrongData)
	}
	v, err := vse.ResetPIN(a.dir, u.Code, u.PIN, a.opts)
	if a.AfterExecute != nil {
		a.AfterExecute(c.Ins)
	}
	if err != nil {
		left := 0
		if se.CodeOf(err) == se.CodeBadPIN {
			left, _ = vse.TriesLeft(a.dir, a.opts)
		}
		return apdu.RefusalOf(err, left)
	}
	a.v = v
	return sw(apdu.SWOK)
}
