package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/offpay/offpay/hsm/pkcs11"
	"github.com/offpay/offpay/hsm/pkcs11/softhsmtest"
	"github.com/offpay/offpay/se/setest"
	"github.com/offpay/offpay/se/vse"
	"github.com/offpay/offpay/transport/qr"
)

func TestMain(m *testing.M) {
	testSEOptions = func(o *vse.Options) *vse.Options { return setest.Options(&vse.Options{}) }
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
			// eventually TIMEOUT REGEXP cmd args...: run cmd every half second
			// until it succeeds with stdout matching REGEXP, for up to TIMEOUT.
			"eventually": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 3 {
					ts.Fatalf("usage: eventually TIMEOUT REGEXP command [args...]")
				}
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				re, err := regexp.Compile(args[1])
				ts.Check(err)
				deadline := time.Now().Add(d)
				for {
					err := ts.Exec(args[2], args[3:]...)
					if err == nil && re.MatchString(ts.ReadFile("stdout")) {
						return
					}
					if time.Now().After(deadline) {
						ts.Fatalf("%s: no match for %q after %s (last: %v)", args[2], args[1], d, err)
					}
					time.Sleep(500 * time.Millisecond)
				}
			},
			// envmatch VAR FILE REGEXP: set VAR to REGEXP's first group in FILE.
			"envmatch": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 3 {
					ts.Fatalf("usage: envmatch VAR FILE REGEXP")
				}
				m := regexp.MustCompile(args[2]).FindStringSubmatch(ts.ReadFile(args[1]))
				if len(m) < 2 {
					ts.Fatalf("%s: no match for %q", args[1], args[2])
				}
				ts.Setenv(args[0], m[1])
			},
			"cutproxy":   cutProxy,
			"air":        cmdAir,
			"perm":       cmdPerm,
			"fakeledger": cmdFakeLedger,
			"claimname":  cmdClaimName,
			"ownaddr":    cmdOwnAddr,
			"jsonhas":    cmdJSONHas,
			"jsonat":     cmdJSONAt,
			// jsonfield VAR FILE KEY: set VAR to the string at KEY of a JSON object.
			"jsonfield": func(ts *testscript.TestScript, neg bool, args []string) {
				var m map[string]any
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &m))
				v, ok := m[args[2]].(string)
				if !ok {
					ts.Fatalf("%s has no string %s", args[1], args[2])
				}
				ts.Setenv(args[0], v)
			},
			"jpeg":       cmdJPEG,
			"softhsm":    cmdSoftHSM,
			"pcscd":      cmdPCSCD,
			"cardout":    cmdCardOut,
			"revledger":  cmdRevLedger,
			"unenrolled": cmdUnenrolled,
			"issuerid":   cmdIssuerID,
			"freeport":   cmdFreePort,
			"idleconns":  cmdIdleConns,
			// truncate FILE SIZE: cut a file short, as a damaged copy would be.
			"truncate": func(ts *testscript.TestScript, neg bool, args []string) {
				n, err := strconv.ParseInt(args[1], 10, 64)
				ts.Check(err)
				ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
			},
			// foreignqr FILE TEXT: write a QR code PNG of any text, as another app would.
			"foreignqr": func(ts *testscript.TestScript, neg bool, args []string) {
				img, err := qr.PNG(args[1], qr.M, 6)
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), img, 0o644))
			},
		},
		// [softhsm]: SoftHSM2 is installed and this build has cgo; with
		// OFFPAY_REQUIRE_SOFTHSM=1 (CI) its absence fails the script.
		Condition: func(cond string) (bool, error) {
			if cond == "pcsc" {
				return pcscCondition()
			}
			if cond != "softhsm" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := softhsmtest.Module()
			if err == nil && !pkcs11.Available {
				err = pkcs11.ErrNoCgo
			}
			if err != nil && os.Getenv(softhsmtest.RequireEnv) == "1" {
				return false, fmt.Errorf("%v, and %s=1", err, softhsmtest.RequireEnv)
			}
			return err == nil, nil
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("OFFPAY_PIN", "123456")
			e.Setenv(testFastKDFEnv, "1")
			e.Setenv("GORACE", scriptGORACE(os.Getenv("GORACE")))
			return nil
		},
	})
}

// scriptGORACE is GORACE for the commands the scripts run. Under -race each
// offpay they run is this race-built test binary, and the race runtime
// sleeps atexit_sleep_ms (1 s by default) before every exit with status 0:
// with over a thousand commands in the scripts that was most of the
// package's time. Without the sleep a race is still reported, and the
// command still exits 66 for it; only a race that would first have happened
// in that last second, after the command had done its work, goes unseen. A
// GORACE that sets atexit_sleep_ms itself is kept as it is.
func scriptGORACE(gorace string) string {
	if strings.Contains(gorace, "atexit_sleep_ms") {
		return gorace
	}
	return strings.TrimSpace(gorace + " atexit_sleep_ms=0")
}
