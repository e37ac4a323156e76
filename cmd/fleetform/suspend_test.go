package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Issue 10 #15: suspend (and resume) with no daemon watching the file must
// say so instead of reporting a suspension nobody will honour.
func TestSuspendWithoutADaemonSaysSo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "suspended")
	for _, cmd := range []string{"suspend", "resume"} {
		out, errOut, code := runCLI(t, cmd, "--suspend-file", file)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", cmd, code, errOut)
		}
		if !strings.Contains(errOut, "no running daemon is watching "+file) {
			t.Errorf("%s: stderr %q does not say that no daemon watches the file (stdout %q)", cmd, errOut, out)
		}
	}
}
