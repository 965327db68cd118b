package main

import (
	"fmt"
	"io"
	"path/filepath"
)

// consoleHint says how to look at the demo's ledger in the operator
// console (web/console): the demo's own server stops with it, but its data
// folder stays, and ledger serve serves the console under /console/.
func consoleHint(w io.Writer, dir string) {
	data := filepath.Join(dir, "ledger")
	fmt.Fprintf(w, "To see this ledger in the operator console: offpay ledger serve --data %s, then open http://%s/console/ with the token in %s.\n",
		data, defaultListen, filepath.Join(data, "admin.token"))
}
