package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offpay/offpay/server"
)

// TestConsoleServed: ledger serve's pages include the operator console
// (web/console), its page and module scripts with their content types.
func TestConsoleServed(t *testing.T) {
	h := server.New(nil, server.Options{Pages: webPages(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for path, want := range map[string]string{"/console/": "text/html", "/console/js/app.js": "text/javascript", "/console/console.css": "text/css"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), want) {
			t.Errorf("%s: %d %q, want 200 %s", path, w.Code, w.Header().Get("Content-Type"), want)
		}
	}
}
