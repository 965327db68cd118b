package server

import (
	"net/http"
	"sort"
)

// handlePages mounts each page's files under /{prefix}/.
func (s *Server) handlePages(pages map[string]http.Handler) {
	prefixes := make([]string, 0, len(pages))
	for p := range pages {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		h := http.StripPrefix("/"+p, pages[p])
		s.handle("GET /"+p+"/", func(w http.ResponseWriter, r *http.Request) {
			// The pages are the same for every visitor and call the API
			// themselves: nothing of the ledger's state is in them.
			w.Header().Set("X-Content-Type-Options", "nosniff")
			h.ServeHTTP(w, r)
		})
		s.handle("GET /"+p, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/"+p+"/", http.StatusMovedPermanently)
		})
	}
}
