package webpos

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestServesTillOverWalletFiles: the till's own page, and the wallet's
// WebAssembly and scripts under it, all in its service worker's list.
func TestServesTillOverWalletFiles(t *testing.T) {
	h := Handler()
	get := func(p string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		b, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(b)
	}
	code, index := get("/")
	if code != 200 || !strings.Contains(index, "pos.js") || !strings.Contains(index, "offpay till") {
		t.Fatalf("index: %d %.80q", code, index)
	}
	for _, f := range []string{"/pos.js", "/core.js", "/idbfs.js", "/wasm_exec.js", "/offpay.wasm", "/manifest.webmanifest"} {
		if code, _ := get(f); code != 200 {
			t.Errorf("%s: %d", f, code)
		}
	}
	_, sw := get("/sw.js")
	for _, f := range []string{`"pos.js"`, `"pos.css"`, `"offpay.wasm"`, `"core.js"`} {
		if !strings.Contains(sw, f) {
			t.Errorf("sw.js does not cache %s", f)
		}
	}
	if _, m := get("/manifest.webmanifest"); !strings.Contains(m, "offpay till") {
		t.Error("the till's manifest is not its own")
	}
}
