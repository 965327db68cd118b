package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offpay/offpay/ledger"
	"github.com/offpay/offpay/se/vse"
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

// pastledger DATA AGO: serve the ledger of DATA in this process with its
// clock AGO in the past, writing DATA/ledger.url like ledger serve; it stops
// when the script ends. What it signs (revocation lists) is AGO old when
// the wallets receive it.
func cmdPastLedger(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: pastledger DATA AGO")
	}
	ago, err := time.ParseDuration(args[1])
	ts.Check(err)
	data := ts.MkAbs(args[0])
	h, err := startLedger(context.Background(), hostOptions{dataDir: data, listen: "127.0.0.1:0",
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		clock:  func() time.Time { return time.Now().Add(-ago) }})
	ts.Check(err)
	ts.Defer(func() { h.Close() })
	ts.Check(os.WriteFile(filepath.Join(data, ledgerURLFile), []byte(h.url+"\n"), 0o644))
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
