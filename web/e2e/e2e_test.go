// Package e2e runs offpay's browser tests: Playwright (Node, web/e2e)
// driving Debian's Chromium against a real offpay ledger serve on loopback.
package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireEnv makes missing browser tools a failure instead of a skip (CI
// sets it: no silent skip there).
const requireEnv = "OFFPAY_REQUIRE_BROWSER"

// tools returns node, the Playwright CLI and Chromium, or skips (fails
// under OFFPAY_REQUIRE_BROWSER) when one is missing.
func tools(t *testing.T) (node, cli, chromium string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv(requireEnv) != "" {
			t.Fatalf("%s is missing and %s is set", what, requireEnv)
		}
		t.Skipf("%s is missing: skipping the browser tests (.ci/run installs it)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node")
	}
	cli, _ = filepath.Abs(filepath.Join("node_modules", "@playwright", "test", "cli.js"))
	if _, err := os.Stat(cli); err != nil {
		missing("Playwright (npm ci in web/e2e)")
	}
	chromium = os.Getenv("OFFPAY_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("chromium (" + chromium + ")")
	}
	return node, cli, chromium
}

// Ledger is an offpay ledger serve started for a test.
type Ledger struct {
	Bin, Data, URL, Token string
}

// buildOffpay builds the command once per test binary run.
func buildOffpay(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "offpay")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/offpay")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building offpay: %v\n%s", err, out)
	}
	return bin
}

// startLedger runs offpay ledger init and serve on a free loopback port,
// with no rate limits (the tests are one client playing many).
func startLedger(t *testing.T, bin string) *Ledger {
	t.Helper()
	data := filepath.Join(t.TempDir(), "ledger")
	if out, err := exec.Command(bin, "ledger", "init", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("ledger init: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "ledger", "serve", "--data", data, "--listen", addr, "--device-rate", "0", "--client-rate", "0")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	logf, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("ledger serve's log:\n%s", b)
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := http.Get(url + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger serve did not answer on %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	return &Ledger{Bin: bin, Data: data, URL: url, Token: strings.TrimSpace(string(tok))}
}

// TestBrowser runs every Playwright spec in tests/ against one ledger.
// Specs that need a ledger of their own start one with OFFPAY_BIN.
// Screenshots go to OFFPAY_SCREENSHOTS (default web/e2e/screenshots),
// which CI keeps.
func TestBrowser(t *testing.T) {
	node, cli, chromium := tools(t)
	bin := buildOffpay(t)
	l := startLedger(t, bin)
	shots := os.Getenv("OFFPAY_SCREENSHOTS")
	if shots == "" {
		shots, _ = filepath.Abs("screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{cli, "test"}
	if f := os.Getenv("OFFPAY_E2E_GREP"); f != "" {
		args = append(args, "--grep", f)
	}
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(),
		"OFFPAY_URL="+l.URL, "OFFPAY_DATA="+l.Data, "OFFPAY_BIN="+bin, "OFFPAY_ADMIN_TOKEN="+l.Token,
		"OFFPAY_CHROMIUM="+chromium, "OFFPAY_SCREENSHOTS="+shots, "OFFPAY_E2E_OUT="+t.TempDir(),
		"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1", "CI=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("playwright failed (exit %d); screenshots in %s", ee.ExitCode(), shots)
		}
		t.Fatal(fmt.Errorf("playwright: %w", err))
	}
}
