package main

import (
	"strings"
	"testing"
)

// A valid document with the newer kinds names them in the summary; one
// without them reads as before.
func TestValidate_SummaryNamesTheNewKinds(t *testing.T) {
	out, errOut, code := runCLI(t, "validate", "../../testdata/fleets/whole-fleet.good.yaml")
	want := "valid (2 outputs, 3 agent policies, 1 package, 1 remote, 2 integration policies, 1 Fleet Server host, 1 proxy, 1 download source)"
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nwant %q", code, out, errOut, want)
	}
	out, _, _ = runCLI(t, "validate", "../../testdata/fleets/minimal.good.yaml")
	if strings.Contains(out, "integration polic") || !strings.Contains(out, "remote") {
		t.Errorf("summary without the new kinds = %q", out)
	}
}
