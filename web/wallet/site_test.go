package webwallet

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offpay/offpay/web/wallet/wasmbuild"
)

// TestCommittedWasmIsCurrent rebuilds offpay.wasm from web/wasm and fails
// when the committed one differs: a change to wallet, se/vse, protocol,
// transport/qr or ledgerclient needs `go generate ./web/wallet`. The
// bytes depend on the Go release, so another Go skips (CI uses go.mod's).
func TestCommittedWasmIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm (about a minute)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	built, err := os.ReadFile(filepath.Join("static", wasmbuild.GoVersionFile))
	if err != nil {
		t.Fatal(err)
	}
	gov, err := wasmbuild.GoVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(built)); v != gov {
		t.Skipf("the committed wasm was built by %s, this is %s: the bytes would differ anyway", v, gov)
	}
	wasm, err := wasmbuild.Build("../wasm")
	if err != nil {
		t.Fatal(err)
	}
	gz, err := wasmbuild.Gzip(wasm)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("static", wasmbuild.WasmFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gz, committed) {
		t.Fatalf("web/wallet/static/%s is stale (%d bytes committed, %d built): run go generate ./web/wallet and commit it", wasmbuild.WasmFile, len(committed), len(gz))
	}
	js, err := wasmbuild.ExecJS()
	if err != nil {
		t.Fatal(err)
	}
	if mine, _ := os.ReadFile(filepath.Join("static", "wasm_exec.js")); !bytes.Equal(js, mine) {
		t.Fatal("static/wasm_exec.js is not this Go's: run go generate ./web/wallet")
	}
}

func get(t *testing.T, h http.Handler, path, enc string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	if enc != "" {
		r.Header.Set("Accept-Encoding", enc)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

// TestServesWasm: a browser gets the committed gzip as is, a client
// without gzip the plain module; both are WebAssembly.
func TestServesWasm(t *testing.T) {
	h := Handler()
	gz := get(t, h, "/offpay.wasm", "gzip, deflate, br")
	if gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("headers %v", gz.Header)
	}
	z, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := io.ReadAll(z)
	plain := get(t, h, "/offpay.wasm", "")
	b, _ := io.ReadAll(plain.Body)
	if plain.Header.Get("Content-Encoding") != "" || !bytes.Equal(a, b) || !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Fatalf("plain answer differs or is not wasm (%d and %d bytes)", len(a), len(b))
	}
	if get(t, h, "/offpay.wasm", "gzip;q=0").Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 got gzip")
	}
}

// TestServiceWorkerListsFiles: the worker caches every file under this
// build's version, and unknown paths are 404.
func TestServiceWorkerListsFiles(t *testing.T) {
	s := NewSite(nil)
	b, _ := io.ReadAll(get(t, s, "/sw.js", "").Body)
	for _, want := range []string{s.Version(), `"offpay.wasm"`, `"index.html"`, `"./"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("sw.js lacks %s", want)
		}
	}
	if bytes.Contains(b, []byte("__FILES__")) || bytes.Contains(b, []byte("__VERSION__")) {
		t.Error("sw.js keeps a placeholder")
	}
	if r := get(t, s, "/nothing.js", ""); r.StatusCode != 404 {
		t.Errorf("unknown file: %d", r.StatusCode)
	}
	if r := get(t, s, "/", ""); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self' 'wasm-unsafe-eval'") {
		t.Errorf("index: %d %v", r.StatusCode, r.Header)
	}
}
