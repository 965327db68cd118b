// Command gen builds offpay.wasm from web/wasm and writes it gzipped into
// web/wallet/static, beside the wasm_exec.js of the same Go: run by
// `go generate ./web/wallet` after a change to any package the wallet
// uses. TestCommittedWasmIsCurrent fails when that was forgotten.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/offpay/offpay/web/wallet/wasmbuild"
)

func main() {
	out := "static"
	wasm, err := wasmbuild.Build("../wasm")
	if err != nil {
		fail(err)
	}
	gz, err := wasmbuild.Gzip(wasm)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(out, wasmbuild.WasmFile), gz, 0o644); err != nil {
		fail(err)
	}
	js, err := wasmbuild.ExecJS()
	if err != nil {
		fail(err)
	}
	v, err := wasmbuild.GoVersion()
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(out, "wasm_exec.js"), js, 0o644); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(out, wasmbuild.GoVersionFile), []byte(v+"\n"), 0o644); err != nil {
		fail(err)
	}
	fmt.Printf("offpay.wasm: %d bytes, %d gzipped (%s)\n", len(wasm), len(gz), v)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
