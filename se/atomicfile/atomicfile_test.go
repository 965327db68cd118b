package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesAndCrashesLeaveOldOrNew(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, "f", []byte("old"), nil); err != nil {
		t.Fatal(err)
	}
	crashAt := func(at Stage) Hook { return func(_ string, s Stage) bool { return s == at } }
	if err := Write(dir, "f", []byte("new"), crashAt(BeforeRename)); !errors.Is(err, ErrCrash) {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); !bytes.Equal(b, []byte("old")) {
		t.Fatalf("crash before rename left %q", b)
	}
	if err := Write(dir, "f", []byte("new"), crashAt(AfterRename)); !errors.Is(err, ErrCrash) {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); !bytes.Equal(b, []byte("new")) {
		t.Fatalf("crash after rename left %q", b)
	}
}

// BenchmarkWrite is one durable replace of a 4 KiB file: the floor under
// every SE state change (two fsyncs: file and folder).
func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 4096)
	for i := 0; i < b.N; i++ {
		if err := Write(dir, "f", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}
