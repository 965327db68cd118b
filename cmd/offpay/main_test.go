package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offpay/offpay/transport/qr"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"offpay": main,
	})
}

// TestScripts runs the command-line scripts in testdata/script: every
// command, and the mistakes a person will make with it.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N cmd args...: run cmd and require exit status N.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: exitcode N command [args...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%v", err)
				}
				if got != want {
					ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
				}
			},
			// waitfile FILE: wait up to 60 s for FILE to exist.
			"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
				deadline := time.Now().Add(60 * time.Second)
				for time.Now().Before(deadline) {
					if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				ts.Fatalf("%s did not appear", args[0])
			},
			// sleep DURATION
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				time.Sleep(d)
			},
			// envfile VAR FILE: set VAR to FILE's content, trimmed.
			"envfile": func(ts *testscript.TestScript, neg bool, args []string) {
				ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
			},
			// jsonenv VAR FILE FIELD: set VAR to a top-level string field of a JSON file.
			"jsonenv": func(ts *testscript.TestScript, neg bool, args []string) {
				var m map[string]any
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &m))
				v, ok := m[args[2]].(string)
				if !ok {
					ts.Fatalf("%s has no string field %s", args[1], args[2])
				}
				ts.Setenv(args[0], v)
			},
			// notlimited URLFILE: require that the ledger whose URL is in URLFILE has
			// answered no request with 429 (its rate limits are generous enough).
			"notlimited": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: notlimited URLFILE")
				}
				resp, err := http.Get(strings.TrimSpace(ts.ReadFile(args[0])) + "/metrics")
				ts.Check(err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				ts.Check(err)
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "offpay_http_requests_total") {
					ts.Fatalf("GET /metrics: %s", resp.Status)
				}
				for line := range strings.Lines(string(b)) {
					if strings.HasPrefix(line, "offpay_http_requests_total") && strings.Contains(line, `status="429"`) {
						ts.Fatalf("the ledger rate limited requests: %s", line)
					}
				}
			},
			"cutproxy":   cutProxy,
			"jsonhas":    cmdJSONHas,
			"jpeg":       cmdJPEG,
			"revledger":  cmdRevLedger,
			"unenrolled": cmdUnenrolled,
			"issuerid":   cmdIssuerID,
			"hostport":   cmdHostPort,
			// foreignqr FILE TEXT: write a QR code PNG of any text, as another app would.
			"foreignqr": func(ts *testscript.TestScript, neg bool, args []string) {
				img, err := qr.PNG(args[1], qr.M, 6)
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), img, 0o644))
			},
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("OFFPAY_PIN", "1234")
			return nil
		},
	})
}
