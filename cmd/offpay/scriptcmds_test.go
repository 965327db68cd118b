package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offpay/offpay/hsm/pkcs11/softhsmtest"
	"github.com/offpay/offpay/internal/freeport"
	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/protocol"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
	"github.com/offpay/offpay/transport/qr"
)

// jsonhas FILE PATH...: require that the JSON in FILE has every PATH. A PATH
// is dot-separated keys; a key ending in [] is an array whose every element
// must have the rest (a leading [] is the top-level array). An array must not
// be empty, so that a check never passes for want of elements.
func cmdJSONHas(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: jsonhas FILE PATH...")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &v))
	for _, p := range args[1:] {
		err := jsonHas(v, strings.Split(p, "."))
		if neg && err == "" {
			ts.Fatalf("%s has %s", args[0], p)
		}
		if !neg && err != "" {
			ts.Fatalf("%s: %s: %s", args[0], p, err)
		}
	}
}

func jsonHas(v any, path []string) string {
	if len(path) == 0 {
		return ""
	}
	key, each := strings.CutSuffix(path[0], "[]")
	if key != "" {
		m, ok := v.(map[string]any)
		if !ok {
			return "not an object at " + key
		}
		if v, ok = m[key]; !ok {
			return "no field " + key
		}
	}
	if !each {
		return jsonHas(v, path[1:])
	}
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return "not a non-empty array at " + path[0]
	}
	for _, el := range a {
		if err := jsonHas(el, path[1:]); err != "" {
			return err
		}
	}
	return ""
}

// jpeg IN.png OUT.jpg: re-encode a PNG as a JPEG, as a phone camera would
// save a photo of a code.
func cmdJPEG(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jpeg IN.png OUT.jpg")
	}
	img, err := png.Decode(strings.NewReader(ts.ReadFile(args[0])))
	ts.Check(err)
	var b bytes.Buffer
	ts.Check(jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o644))
}

// revledger DATA MAXAGE: serve the ledger of DATA in this process, like
// ledger serve (it writes DATA/ledger.url), with a policy whose devices must
// hold a revocation list younger than MAXAGE and that re-signs the list
// every second. It stops when the script ends.
func cmdRevLedger(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: revledger DATA MAXAGE")
	}
	maxAge, err := time.ParseDuration(args[1])
	ts.Check(err)
	data := ts.MkAbs(args[0])
	keys, err := ledger.LoadKeys(filepath.Join(data, "keys"), nil)
	ts.Check(err)
	token, err := readToken(data)
	ts.Check(err)
	st, err := sqlite.Open(context.Background(), filepath.Join(data, ledgerDBFile))
	ts.Check(err)
	ts.Defer(func() { st.Close() })
	pol := ledger.DefaultPolicy
	pol.Person.MaxRevListAge = uint64(maxAge / time.Second)
	pol.Merchant.MaxRevListAge = pol.Person.MaxRevListAge
	svc := ledger.New(st, keys, ledger.Options{Policy: pol, RevocationEvery: time.Second})
	srv := httptest.NewServer(server.New(svc, server.Options{AdminToken: token,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	ts.Defer(srv.Close)
	ts.Check(writeFileAtomic(filepath.Join(data, ledgerURLFile), []byte(srv.URL+"\n")))
}

// unenrolled DIR URL ACCOUNT: a wallet folder whose secure element was made
// but never enrolled (no certificate), e.g. by an older or interrupted init.
func cmdUnenrolled(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: unenrolled DIR URL ACCOUNT")
	}
	dir := ts.MkAbs(args[0])
	_, err := vse.Create(filepath.Join(dir, walletSEDir), ts.Getenv(pinEnv), setest.Options(nil))
	ts.Check(err)
	cfg, err := json.Marshal(walletConfig{Ledger: args[1], Account: args[2]})
	ts.Check(err)
	ts.Check(os.WriteFile(filepath.Join(dir, walletConfigFile), cfg, 0o600))
}

// issuerid VAR DATA: set VAR to the key id of the issuer of the ledger in DATA.
func cmdIssuerID(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: issuerid VAR DATA")
	}
	k, err := ledger.LoadKeys(filepath.Join(ts.MkAbs(args[1]), "keys"), nil)
	ts.Check(err)
	ts.Setenv(args[0], k.Issuer.ID().String())
}

// freeport VAR: set VAR to 127.0.0.1:PORT (and VAR_PORT to PORT), a port
// free now and below Linux's ephemeral range (internal/freeport), for a
// server a script stops and serves again at the same address.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	a, err := freeport.Addr()
	ts.Check(err)
	_, p, _ := net.SplitHostPort(a)
	ts.Setenv(args[0], a)
	ts.Setenv(args[0]+"_PORT", p)
}

// idleconns ADDR N: open N TCP connections to ADDR that never send a byte,
// kept open until the script ends (or the other end closes them), as a
// flood against a terminal's channel listener.
func cmdIdleConns(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: idleconns ADDR N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	for range n {
		c, err := net.Dial("tcp", args[0])
		ts.Check(err)
		ts.Defer(func() { c.Close() })
	}
}

// perm MODE FILE...: require each FILE (or folder) to have exactly the
// permission bits MODE (octal).
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: perm MODE FILE...")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	for _, f := range args[1:] {
		fi, err := os.Stat(ts.MkAbs(f))
		ts.Check(err)
		if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
			ts.Fatalf("%s has mode %#o, want %s%#o", f, got, map[bool]string{true: "not "}[neg], want)
		}
	}
}

// fakeledger VAR FILE: serve a fake ledger on a non-loopback address of
// this host, set VAR to its plain
// http:// URL, and append every Authorization header it receives to FILE
// (created empty) as it comes. It answers everything with 200 and a JSON
// object, as a health check expects.
func cmdFakeLedger(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: fakeledger VAR FILE")
	}
	var ip net.IP
	addrs, err := net.InterfaceAddrs()
	ts.Check(err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		ts.Fatalf("no non-loopback IPv4 address to serve the fake ledger on")
	}
	out := ts.MkAbs(args[1])
	ts.Check(os.WriteFile(out, nil, 0o600))
	var mu sync.Mutex
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	ts.Check(err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			mu.Lock()
			if f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
				f.WriteString(a + "\n")
				f.Close()
			}
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[0], "http://"+ln.Addr().String())
}

// claimname IN OUT NAME: write to OUT the text form of the request in the
// text file IN edited to claim NAME, signature untouched (a forger holding
// the payee key would re-sign it; the claim alone is refused).
func cmdClaimName(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: claimname IN OUT NAME")
	}
	b, err := qr.DecodeText(strings.TrimSpace(ts.ReadFile(args[0])))
	ts.Check(err)
	var r protocol.PaymentRequest
	ts.Check(protocol.OpenAs(b, &r))
	r.Name = args[2]
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(qr.EncodeText(protocol.Seal(&r))+"\n"), 0o600))
}

// ownaddr VAR: set VAR to IP:0 for a non-loopback IPv4 address of this host.
func cmdOwnAddr(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: ownaddr VAR")
	}
	addrs, err := net.InterfaceAddrs()
	ts.Check(err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			ts.Setenv(args[0], net.JoinHostPort(n.IP.String(), "0"))
			return
		}
	}
	ts.Fatalf("no non-loopback IPv4 address")
}

// softhsm LABEL PIN: make a SoftHSM2 token in $WORK/softhsm (one
// configuration for the script: the tokens of several calls sit side by
// side), point SOFTHSM2_CONF at it and set MODULE to SoftHSM2's module.
func cmdSoftHSM(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: softhsm LABEL PIN")
	}
	module, conf, err := softhsmtest.Init(ts.MkAbs("softhsm"), args[0], args[1])
	ts.Check(err)
	ts.Setenv(softhsmtest.ConfEnv, conf)
	ts.Setenv("MODULE", module)
}
