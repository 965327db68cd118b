// Package webwallet serves the browser wallet: its pages, the Go wallet
// compiled to WebAssembly (committed gzipped, built by go generate: no
// Node and no step at run time) and a service worker that keeps it all
// for offline use. The POS page (web/pos) is a Site over the same files.
package webwallet

//go:generate go run ./gen

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/offpay/offpay/web/wallet/wasmbuild"
)

//go:embed static
var static embed.FS

// Shared are the wallet's files: the pages of web/pos use them too.
var Shared, _ = fs.Sub(static, "static")

// Handler serves the wallet page.
func Handler() http.Handler { return NewSite(nil) }

// Site serves a page's own files over the wallet's shared ones.
type Site struct {
	files   map[string][]byte // name to contents; offpay.wasm gzipped
	version string            // hash of every file: the service worker's cache name
	sw      []byte
}

// NewSite serves own's files (nil: the wallet page's only) with the
// shared files under them.
func NewSite(own fs.FS) *Site {
	s := &Site{files: map[string][]byte{}}
	for _, f := range []fs.FS{Shared, own} {
		if f == nil {
			continue
		}
		_ = fs.WalkDir(f, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(f, p)
			if err == nil {
				s.files[p] = b
			}
			return err
		})
	}
	s.files["offpay.wasm"] = s.files[wasmbuild.WasmFile]
	delete(s.files, wasmbuild.WasmFile)
	delete(s.files, wasmbuild.GoVersionFile)
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		if n != "sw.js" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n + "\x00"))
		h.Write(s.files[n])
	}
	s.version = hex.EncodeToString(h.Sum(nil)[:8])
	list := append([]string{"./"}, names...)
	js, _ := json.Marshal(list)
	s.sw = bytes.Replace(bytes.Replace(s.files["sw.js"], []byte("'__VERSION__'"), []byte("'"+s.version+"'"), 1),
		[]byte("__FILES__"), js, 1)
	return s
}

// csp keeps the pages to their own files: no inline script, nothing from
// another origin; WebAssembly may compile ('wasm-unsafe-eval'), codes are
// blob: images, the camera a mediastream.
const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' blob: data:; media-src 'self' blob: mediastream:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

// Version names this build of the files.
func (s *Site) Version() string { return s.version }

// ServeHTTP serves one file. Every answer is revalidated (no-cache): the
// service worker, not the HTTP cache, keeps the app for offline use.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", `"`+s.version+`"`)
	if r.Header.Get("If-None-Match") == `"`+s.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if name == "sw.js" {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(s.sw)
		return
	}
	b, ok := s.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".webmanifest":
		ct = "application/manifest+json"
	case ".wasm":
		ct = "application/wasm"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	if path.Ext(name) == ".html" {
		w.Header().Set("Content-Security-Policy", csp)
	}
	if name != "offpay.wasm" {
		w.Write(b)
		return
	}
	w.Header().Set("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(b)
		return
	}
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		http.Error(w, "corrupt wasm", http.StatusInternalServerError)
		return
	}
	io.Copy(w, z)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
