// Package console is the ledger operator's console: static HTML, CSS and
// JavaScript modules embedded in the binary, served by offpay ledger serve
// under /console (server.Options.Pages). The page holds no data of its
// own: it asks for the administrator token, keeps it in the tab's
// sessionStorage and calls the admin API with it like any client.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
)

//go:embed static
var static embed.FS

// types are the content types of the console's files, set here rather
// than left to the system's mime.types (a module script must be served as
// JavaScript).
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// csp keeps the page to its own files and the API: no inline script, no
// other origin, no framing (a revoke button must not be clicked through
// another site's frame).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console's files (mount it with the prefix stripped).
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded folder is there at build time
	}
	files := http.FileServerFS(sub)
	tags := etags(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if t, ok := tags[r.URL.Path]; ok {
			h.Set("ETag", t) // a reload asks again and gets 304 Not Modified
		}
		if p := r.URL.Path; p != "/" && p != "" && p[len(p)-1] == '/' {
			http.NotFound(w, r) // no folder listings
			return
		}
		if t, ok := types[path.Ext(r.URL.Path)]; ok {
			h.Set("Content-Type", t)
		} else if r.URL.Path == "/" || r.URL.Path == "" {
			h.Set("Content-Type", types[".html"])
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// etags names each file by a hash of its bytes (embedded files have no
// modification time for If-Modified-Since).
func etags(files fs.FS) map[string]string {
	tags := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		tag := `"` + hex.EncodeToString(sum[:8]) + `"`
		tags["/"+p] = tag
		if p == "index.html" {
			tags["/"] = tag
		}
		return nil
	})
	return tags
}
