package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/sqlite"
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
	_, err := vse.Create(filepath.Join(dir, walletSEDir), ts.Getenv(pinEnv),
		&vse.Options{KDF: vse.KDF{Time: 1, Memory: 1024, Threads: 1}})
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

// hostport VAR URLFILE: set VAR to the host:port of the URL in URLFILE, to
// serve a ledger again at the address its wallets know.
func cmdHostPort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: hostport VAR URLFILE")
	}
	u, err := url.Parse(strings.TrimSpace(ts.ReadFile(args[1])))
	ts.Check(err)
	ts.Setenv(args[0], u.Host)
}
