package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/offpay/offpay/server"
)

// TestPagesServed: a page's files are served under its prefix, its bare
// prefix redirects to the folder, and the API is unchanged beside it.
func TestPagesServed(t *testing.T) {
	files := fstest.MapFS{"index.html": {Data: []byte("<h1>console</h1>")}}
	h := server.New(nil, server.Options{Pages: map[string]http.Handler{"console": http.FileServerFS(files)}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r, err := c.Get(srv.URL + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(b) != "<h1>console</h1>" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /console/: %d %q", r.StatusCode, b)
	}
	r, err = c.Get(srv.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	r, err = c.Get(srv.URL + "/console/missing.js")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("GET a missing file: %d", r.StatusCode)
	}
}
