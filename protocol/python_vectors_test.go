package protocol_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestIndependentVerifier runs spec/verify.py, a verifier written from
// SPEC.md alone in another language, over every vector, so that the spec,
// the vectors and a second implementation cannot silently part ways. It is
// skipped where python3 with the cryptography package is not installed,
// unless OFFPAY_REQUIRE_PYTHON is set (CI sets it): then it fails.
func TestIndependentVerifier(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	skip := t.Skip
	if os.Getenv("OFFPAY_REQUIRE_PYTHON") != "" {
		skip = t.Fatal
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		skip("python3 not installed")
		return
	}
	if exec.Command(py, "-c", "import cryptography").Run() != nil {
		skip("python3 cryptography package not installed")
		return
	}
	out, err := exec.Command(py, "../spec/verify.py", vectorDir).CombinedOutput()
	if err != nil {
		t.Fatalf("spec/verify.py: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
