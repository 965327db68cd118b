package console_test

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/offpay/offpay/server"
	"github.com/offpay/offpay/web/console"
)

// serve mounts the console as ledger serve does (server.Options.Pages).
func serve(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(server.New(nil, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Pages: map[string]http.Handler{"console": console.Handler()}}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, string(b)
}

// TestServedWithTypes: every file of the console is served under
// /console/ with its content type (a module script must come as
// JavaScript, or the browser refuses it), nosniff and the page's CSP.
func TestServedWithTypes(t *testing.T) {
	srv := serve(t)
	want := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	n := 0
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(filepath.ToSlash(p), "static/")
		r, body := get(t, srv.URL+"/console/"+rel)
		disk, _ := os.ReadFile(p)
		if r.StatusCode != 200 || body != string(disk) {
			t.Errorf("%s: status %d, %d bytes (want the file's %d)", rel, r.StatusCode, len(body), len(disk))
		}
		if ct := r.Header.Get("Content-Type"); ct != want[filepath.Ext(p)] {
			t.Errorf("%s: Content-Type %q, want %q", rel, ct, want[filepath.Ext(p)])
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
			!strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: headers %v", rel, r.Header)
		}
		n++
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("walked %d files: %v", n, err)
	}
	r, body := get(t, srv.URL+"/console/")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != want[".html"] || !strings.Contains(body, `<script type="module" src="js/app.js">`) {
		t.Fatalf("/console/: %d %q %.80s", r.StatusCode, r.Header.Get("Content-Type"), body)
	}
	// No folder listings, and a missing file is a plain 404.
	for _, p := range []string{"/console/js/", "/console/missing.js"} {
		if r, _ := get(t, srv.URL+p); r.StatusCode != 404 || strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: %d %q", p, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
}

// TestEveryImportExists: each file index.html and the modules name is in
// the package (a renamed module would fail only in the browser).
func TestEveryImportExists(t *testing.T) {
	ref := regexp.MustCompile(`(?:from|import)\s+'(\./[^']+)'|(?:src|href)="([^"#:]+)"`)
	err := filepath.WalkDir("static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".js" && filepath.Ext(p) != ".html") {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
			name := m[1] + m[2]
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), name)); err != nil {
				t.Errorf("%s names %s, which is not there", p, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoMarkupFromStrings: the console builds every element node by node
// and puts data in text nodes; no script may parse a string as HTML (the
// browser test renders hostile names; this keeps the rule for code it
// does not reach).
func TestNoMarkupFromStrings(t *testing.T) {
	bad := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\beval\(|new Function\(`)
	err := filepath.WalkDir("static/js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for i, line := range strings.Split(string(b), "\n") {
			if bad.MatchString(line) {
				t.Errorf("%s:%d: %s", p, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReloadNotModified: a reload revalidates each file by its ETag and
// gets 304 without the body.
func TestReloadNotModified(t *testing.T) {
	srv := serve(t)
	for _, p := range []string{"/console/", "/console/js/app.js", "/console/console.css"} {
		r, body := get(t, srv.URL+p)
		tag := r.Header.Get("ETag")
		if tag == "" || body == "" {
			t.Fatalf("%s: no ETag", p)
		}
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("If-None-Match", tag)
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != http.StatusNotModified {
			t.Errorf("%s again with its ETag: %d", p, r2.StatusCode)
		}
	}
}
