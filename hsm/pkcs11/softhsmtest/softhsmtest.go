// Package softhsmtest makes SoftHSM2 tokens for tests: a private
// configuration and token folder per test, so that no test touches the
// machine's tokens. Without SoftHSM2 (Debian's softhsm2) tests skip, or
// fail when OFFPAY_REQUIRE_SOFTHSM=1 (CI sets it).
package softhsmtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireEnv, set to 1, turns a missing SoftHSM2 into a test failure.
const RequireEnv = "OFFPAY_REQUIRE_SOFTHSM"

// ConfEnv is the variable SoftHSM2 reads its configuration file from.
const ConfEnv = "SOFTHSM2_CONF"

// SOPIN is the security officer PIN of the tokens Init makes.
const SOPIN = "so-secret-1"

var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// ErrAbsent says SoftHSM2 is not installed.
var ErrAbsent = errors.New("SoftHSM2 is not installed (apt-get install softhsm2)")

// Module is the path of the SoftHSM2 module, if SoftHSM2 and its
// softhsm2-util are installed.
func Module() (string, error) {
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		return "", ErrAbsent
	}
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrAbsent
}

// Init writes a SoftHSM2 configuration in dir whose tokens live in
// dir/tokens, and initialises a token labelled label with the user PIN
// pin in it. The caller sets ConfEnv to conf before loading the module.
func Init(dir, label, pin string) (module, conf string, err error) {
	if module, err = Module(); err != nil {
		return "", "", err
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", "", err
	}
	conf = filepath.Join(dir, "softhsm2.conf")
	if _, err := os.Stat(conf); err != nil {
		c := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
		if err := os.WriteFile(conf, []byte(c), 0o600); err != nil {
			return "", "", err
		}
	}
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", SOPIN)
	cmd.Env = append(os.Environ(), ConfEnv+"="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("softhsm2-util --init-token: %v: %s", err, out)
	}
	return module, conf, nil
}

// New makes a token labelled label with the user PIN pin in a temporary
// folder of t, points ConfEnv at it for the test and returns the module.
// Without SoftHSM2 it skips t, or fails it if RequireEnv is 1.
func New(t testing.TB, label, pin string) string {
	t.Helper()
	if _, err := Module(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v, and %s=1", err, RequireEnv)
		}
		t.Skipf("skipped: %v; set %s=1 to make this a failure", err, RequireEnv)
	}
	dir := t.TempDir()
	module, conf, err := Init(dir, label, pin)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(ConfEnv, conf)
	return module
}

// AddToken initialises one more token in the configuration of conf.
func AddToken(conf, label, pin string) error {
	_, _, err := Init(filepath.Dir(conf), label, pin)
	return err
}
