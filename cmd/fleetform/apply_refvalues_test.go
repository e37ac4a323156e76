package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// TestApply_ReferencedValueRefused: an integer variable fed "abc" from the
// environment passes plan (a reference is checked for presence only, its
// value is read at apply), and apply — which reads every reference before
// its first write — refuses it before writing anything: exit 1, the policy,
// the variable and Kibana's message on stderr, the value nowhere.
func TestApply_ReferencedValueRefused(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	t.Setenv("FS_MAX_AGENTS", "abc")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	main := sim.Cluster("main")
	dir := t.TempDir()
	files := map[string]string{
		"clusters.yaml": fmt.Sprintf(`clusters:
  main:
    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
`, main.KibanaURL(), main.ESURL()),
		"fleet.yaml": `agent_policies:
  - {id: fs, name: FS, namespace: default}
package_policies:
  - id: fleet-server
    name: fleet-server
    namespace: default
    package: {name: fleet_server, version: 1.6.0}
    policy_ids: [fs]
    inputs:
      fleet_server-fleet-server:
        vars:
          max_agents: {env: FS_MAX_AGENTS}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := runCLI(t, "plan", "-c", dir, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, `package_policy "fleet-server" will be created`) {
		t.Fatalf("plan: exit %d, want 2 with the create\n%s\n%s", code, out, errOut)
	}
	sim.ClearRequests()
	aout, aerr, code := runCLI(t, "apply", "-c", dir)
	if code != 1 {
		t.Errorf("apply: exit %d, want 1\n%s\n%s", code, aout, aerr)
	}
	for _, want := range []string{
		`integration policy fleet-server: Kibana would refuse it with 400: Package policy is invalid: inputs.fleet-server.vars.max_agents: ["Invalid integer"]`,
		"inputs.fleet_server-fleet-server.vars.max_agents read from env:FS_MAX_AGENTS",
		"nothing was written",
	} {
		if !strings.Contains(aerr, want) {
			t.Errorf("apply's stderr lacks %q:\n%s", want, aerr)
		}
	}
	if w := writesOf(sim); len(w) != 0 {
		t.Errorf("apply wrote: %v", w)
	}
	if all := out + errOut + aout + aerr; strings.Contains(all, "abc") {
		t.Errorf("the referenced value is printed:\n%s", all)
	}
}
