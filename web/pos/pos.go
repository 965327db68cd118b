// Package webpos serves the POS page: a till in the browser, over the
// wallet's files and WebAssembly (web/wallet).
package webpos

import (
	"embed"
	"io/fs"
	"net/http"

	webwallet "github.com/offpay/offpay/web/wallet"
)

//go:embed static
var static embed.FS

// Handler serves the POS page.
func Handler() http.Handler {
	own, _ := fs.Sub(static, "static")
	return webwallet.NewSite(own)
}
