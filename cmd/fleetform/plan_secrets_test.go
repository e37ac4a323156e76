package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// TestPlan_SecretValues is issue 10 item 7 end to end: plan compares the
// secret values it can read (a value changed under the same reference is a
// change, exit 2 with --detailed-exitcode), names the references it cannot
// read instead of saying "No changes", and writes nothing either way.
func TestPlan_SecretValues(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	t.Setenv("CLI_TOKEN", cliToken)
	t.Setenv("CLI_KIBANA_KEY", cliAPIKey)
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	keyFile := filepath.Join(t.TempDir(), "ls.key")
	if err := os.WriteFile(keyFile, []byte(cliSSLKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := fleetDir(t, sim, "CLI_TOKEN", keyFile)
	if out, errOut, code := runCLI(t, "apply", "-c", dir); code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}

	t.Setenv("CLI_TOKEN", cliToken2) // same reference, new value
	sim.ClearRequests()
	out, errOut, code := runCLI(t, "plan", "-c", dir, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "secrets.service_token = (sensitive, changed) # value changed at env:CLI_TOKEN") {
		t.Fatalf("plan after the value changed: exit %d\n%s\n%s", code, out, errOut)
	}
	if w := writesOf(sim); len(w) != 0 {
		t.Errorf("plan wrote: %v", w)
	}
	t.Setenv("CLI_TOKEN", cliToken)

	// CI without production secrets: the token variable is unset, the key file gone.
	os.Unsetenv("CLI_TOKEN")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	sim.ClearRequests()
	out, errOut, code = runCLI(t, "plan", "-c", dir, "--detailed-exitcode")
	if code != 0 {
		t.Errorf("plan without secrets: exit %d, want 0 (nothing to change among what it compared)\n%s", code, errOut)
	}
	for _, want := range []string{
		"Not compared with Fleet: 2 secret values",
		`output "remote-west" secrets.service_token (env:CLI_TOKEN): environment variable CLI_TOKEN is not set`,
		`output "logstash" secrets.ssl.key (file:` + keyFile + `)`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "No changes.") {
		t.Errorf("plan says No changes while unsure:\n%s", out)
	}
	if w := writesOf(sim); len(w) != 0 {
		t.Errorf("plan wrote: %v", w)
	}
	// apply, which needs every value, writes nothing and names both.
	sim.ClearRequests()
	_, errOut, code = runCLI(t, "apply", "-c", dir)
	if code != 1 || !strings.Contains(errOut, "output remote-west: secrets.service_token") || !strings.Contains(errOut, "output logstash: secrets.ssl.key") || !strings.Contains(errOut, "nothing was written") {
		t.Errorf("apply without secrets: exit %d\n%s", code, errOut)
	}
	if w := writesOf(sim); len(w) != 0 {
		t.Errorf("apply without secrets wrote: %v", w)
	}
}
