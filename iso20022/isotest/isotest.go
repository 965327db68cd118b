// Package isotest validates ISO 20022 messages against the official
// schemas, for tests: xmllint (Debian's libxml2-utils) checks a document
// against the XSD of its namespace, embedded here (xsd/SOURCE.md says
// where they come from).
package isotest

import (
	"bytes"
	"embed"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed xsd/*.xsd
var xsds embed.FS

// Schemas maps the namespaces of the embedded schemas to their files.
var Schemas = map[string]string{
	"urn:iso:std:iso:20022:tech:xsd:pacs.009.001.09": "pacs.009.001.09.xsd",
	"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "camt.053.001.08.xsd",
	"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08": "camt.054.001.08.xsd",
}

// Xmllint returns the path of xmllint. It skips the test without it,
// unless OFFPAY_REQUIRE_XMLLINT=1 (set by .ci/run, which installs it),
// where it fails.
func Xmllint(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("OFFPAY_REQUIRE_XMLLINT") == "1" {
			t.Fatalf("xmllint is required (OFFPAY_REQUIRE_XMLLINT=1) but not found: %v", err)
		}
		t.Skipf("xmllint not installed (apt-get install libxml2-utils): %v", err)
	}
	return p
}

// Invalid is xmllint's refusal of a document.
type Invalid struct{ Output string }

func (e *Invalid) Error() string { return "xmllint: " + e.Output }

// Validate checks doc against the schema of its root element's namespace
// and returns an *Invalid with xmllint's complaint, or nil if it
// validates. A document of a namespace without a schema here, or one that
// is not XML, fails the test.
func Validate(t testing.TB, doc []byte) error {
	t.Helper()
	lint := Xmllint(t)
	ns := Namespace(t, doc)
	xsd, ok := Schemas[ns]
	if !ok {
		t.Fatalf("no schema for namespace %q", ns)
	}
	schema, err := xsds.ReadFile("xsd/" + xsd)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, s := filepath.Join(dir, "doc.xml"), filepath.Join(dir, xsd)
	if err := errors.Join(os.WriteFile(f, doc, 0o600), os.WriteFile(s, schema, 0o600)); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lint, "--noout", "--nonet", "--schema", s, f).CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("running xmllint: %v", err)
		}
		return &Invalid{string(out)}
	}
	if !bytes.Contains(out, []byte("validates")) {
		t.Fatalf("xmllint answered 0 without saying the document validates: %s", out)
	}
	return nil
}

// MustValidate fails the test unless doc validates.
func MustValidate(t testing.TB, doc []byte) {
	t.Helper()
	if err := Validate(t, doc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
}

// Namespace returns the namespace of doc's root element.
func Namespace(t testing.TB, doc []byte) string {
	t.Helper()
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(doc, &root); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	return root.XMLName.Space
}
