package apdu_test

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se"
	"github.com/offpay/offpay/se/card/apdu"
)

// Every se.Code declared in se/errors.go has its own status word, and the
// status word gives the code back.
func TestEverySECodeHasOneStatusWord(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]se.Code{}
	n := 0
	ast.Inspect(f, func(x ast.Node) bool {
		v, ok := x.(*ast.ValueSpec)
		if !ok || len(v.Names) != 1 || !strings.HasPrefix(v.Names[0].Name, "Code") {
			return true
		}
		var c se.Code
		switch lit := v.Values[0].(type) {
		case *ast.BasicLit:
			c = se.Code(strings.Trim(lit.Value, `"`))
		case *ast.CallExpr: // Code(protocol.ClassX)
			c = classCode(t, lit)
		}
		n++
		w := apdu.SWOf(c, 1)
		if w == apdu.SWInternal {
			t.Errorf("%s (%s) has no status word", v.Names[0].Name, c)
		}
		if o, dup := seen[w]; dup {
			t.Errorf("%s and %s share %04X", c, o, w)
		}
		seen[w] = c
		if got := apdu.CodeOf(w); got != c {
			t.Errorf("%04X gives %s, want %s", w, got, c)
		}
		return true
	})
	if n < 30 {
		t.Fatalf("found %d codes in se/errors.go", n)
	}
}

func classCode(t *testing.T, call *ast.CallExpr) se.Code {
	sel := call.Args[0].(*ast.SelectorExpr).Sel.Name
	m := map[string]protocol.Class{
		"ClassLimit": protocol.ClassLimit, "ClassWrongPayee": protocol.ClassWrongPayee, "ClassExpired": protocol.ClassExpired,
		"ClassRevoked": protocol.ClassRevoked, "ClassStaleRevList": protocol.ClassStaleRevList, "ClassCurrency": protocol.ClassCurrency,
	}
	c, ok := m[sel]
	if !ok {
		t.Fatalf("unknown class %s", sel)
	}
	return se.Code(c)
}

// A refusal read back is the SE's error: code, limit, detail, and the
// protocol class behind it.
func TestRefusalRoundTrip(t *testing.T) {
	in := &se.Error{Code: se.CodeLimit, Which: se.LimitPerPayment, Detail: "above 100.00", Err: &protocol.Error{Class: protocol.ClassLimit, Detail: "x"}}
	r := apdu.RefusalOf(in, 0)
	got := apdu.ErrorOf(r)
	if !errors.Is(got, se.ErrLimit) || !errors.Is(got, &se.Error{Code: se.CodeLimit, Which: se.LimitPerPayment}) || !errors.Is(got, protocol.ErrLimit) {
		t.Fatalf("%v", got)
	}
	if r := apdu.RefusalOf(errors.New("disk on fire"), 0); r.SW != apdu.SWInternal {
		t.Fatalf("%04X", r.SW)
	}
	var st *apdu.StatusError
	if err := apdu.ErrorOf(apdu.Response{SW: apdu.SWInsNotSupp}); !errors.As(err, &st) || st.SW != apdu.SWInsNotSupp {
		t.Fatalf("%v", err)
	}
}

// Parse gives back what Marshal encoded, for the four cases and the edges
// of Lc and Le.
func TestParseMarshal(t *testing.T) {
	for _, c := range []apdu.Command{
		{Cla: 0, Ins: 0xA4, P1: 4},
		{Cla: 0x80, Ins: 0x50, Le: 256},
		{Cla: 0x80, Ins: 0x50, Le: 1},
		{Cla: 0x90, Ins: 0x3C, Data: bytes.Repeat([]byte{7}, 255)},
		{Cla: 0x80, Ins: 0x3C, Data: []byte{1}, Le: 256},
		{Cla: 0x80, Ins: 0x3C, Data: bytes.Repeat([]byte{7}, 255), Le: 17},
	} {
		got, err := apdu.Parse(c.Marshal())
		if err != nil || got.Cla != c.Cla || got.Ins != c.Ins || got.P1 != c.P1 || !bytes.Equal(got.Data, c.Data) || got.Le != c.Le {
			t.Fatalf("%X: %+v %v", c.Marshal(), got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{0x80, 0x50, 0, 0, 2, 0x81, 0, 0})
	f.Add([]byte{0, 0xA4, 4, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := apdu.Parse(b)
		if err != nil {
			return
		}
		// A parsed command is one encoding: it marshals back to its bytes.
		if !bytes.Equal(c.Marshal(), b) {
			t.Fatalf("%X parsed as %+v marshals to %X", b, c, c.Marshal())
		}
	})
}
