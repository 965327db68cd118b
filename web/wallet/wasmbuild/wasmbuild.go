// Package wasmbuild builds the browser wallet's WebAssembly the one way
// both go generate (web/wallet/gen) and the staleness test use, so that
// the same Go gives the same bytes.
package wasmbuild

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Files in web/wallet/static that the build writes.
const (
	WasmFile      = "offpay.wasm.gz"
	GoVersionFile = "offpay.wasm.go-version" // the Go that built it: another Go gives other bytes
)

// Build compiles the package in dir for GOOS=js GOARCH=wasm, without
// paths or symbol tables (-trimpath, -s -w): reproducible for one Go.
func Build(dir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "offpay-wasm")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "offpay.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build (js/wasm): %v\n%s", err, b)
	}
	return os.ReadFile(out)
}

// Gzip compresses at the best level with no name or time in the header:
// the same input gives the same bytes.
func Gzip(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	z, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := z.Write(b); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ExecJS returns the wasm_exec.js of the go command that Build uses: the
// glue must match the Go that built the module.
func ExecJS() ([]byte, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	return os.ReadFile(filepath.Join(string(bytes.TrimSpace(out)), "lib", "wasm", "wasm_exec.js"))
}

// GoVersion is the go command's version ("go1.26.8").
func GoVersion() (string, error) {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	return string(bytes.TrimSpace(out)), err
}
