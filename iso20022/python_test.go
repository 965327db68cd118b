package iso20022

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSecondWriter runs spec/iso20022_write.py, a writer of the same
// messages in Python written from spec/iso20022.md (standard library
// only), over the vectors: it must write every valid vector's XML byte for
// byte and refuse every error vector for its reason, so that the spec, the
// vectors and this package cannot part ways. Skipped without python3,
// unless OFFPAY_REQUIRE_PYTHON is set (CI sets it): then it fails.
func TestSecondWriter(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("OFFPAY_REQUIRE_PYTHON") != "" {
			t.Fatal("python3 is required (OFFPAY_REQUIRE_PYTHON) but not found")
		}
		t.Skip("python3 not installed")
	}
	files, _ := filepath.Glob("testdata/vectors/*.json")
	out, err := exec.Command(py, "../spec/iso20022_write.py", "testdata/vectors").CombinedOutput()
	if err != nil {
		t.Fatalf("spec/iso20022_write.py: %v\n%s", err, out)
	}
	if want := strconv.Itoa(len(files)) + " vectors, 0 wrong"; !strings.Contains(string(out), want) || len(files) == 0 {
		t.Fatalf("spec/iso20022_write.py said %q, want %q", out, want)
	}
}
