// Package golden compares test output with golden files under testdata/ and
// rewrites them on request: `go test ./pkg -update`, or UPDATE_GOLDEN=1 for
// `make golden` (a flag would break packages that do not import this one).
// Review the rewritten files with `git diff` before committing them.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", os.Getenv("UPDATE_GOLDEN") != "", "rewrite golden files")

// Updating reports whether golden files are being rewritten in this run.
func Updating() bool { return *update }

// Check compares got with the file at path, or rewrites the file (creating
// its directory) when updating.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update or UPDATE_GOLDEN=1 to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}
