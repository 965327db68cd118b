package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/offpay/offpay/web/console"
	webpos "github.com/offpay/offpay/web/pos"
	webwallet "github.com/offpay/offpay/web/wallet"
)

// webPages are the browser pages ledger serve serves beside the API
// (server.Options.Pages): prefix to files.
func webPages() map[string]http.Handler {
	return map[string]http.Handler{
		"console": console.Handler(),
		"wallet":  webwallet.Handler(),
		"pos":     webpos.Handler(),
	}
}

// printPages says where ledger serve's pages are, one line each.
func printPages(w io.Writer, url string) {
	names := make([]string, 0, len(webPages()))
	for p := range webPages() {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		fmt.Fprintf(w, "  %s: %s/%s/\n", p, url, p)
	}
}
