package main

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// TestPlan_BlockedExitsOneInEveryFormat is issue 10 item 8: a plan with a
// blocked change used to exit 0 (2 with --detailed-exitcode, like ordinary
// changes), and --format github printed ::error and exited 0. A plan that
// apply would refuse fails (exit 1) in every format, after printing the plan.
func TestPlan_BlockedExitsOneInEveryFormat(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	main := sim.Cluster("main")
	// Kibana refuses is_default: false on the only default output: blocked.
	blocked := waitDir(t, main.KibanaURL(), main.ESURL(), `outputs:
  - {id: fleet-default-output, name: default, type: elasticsearch, hosts: ["`+main.ESURL()+`"], is_default: false}
`)
	changes := waitDir(t, main.KibanaURL(), main.ESURL(), waitOutputs)
	printed := map[string]string{"text": "is blocked", "json": `"blocked": 1`, "markdown": "| blocked |", "github": "::error "}
	for _, format := range []string{"text", "json", "markdown", "github"} {
		for _, detailed := range []bool{false, true} {
			args := []string{"plan", "-c", blocked, "--format", format}
			if detailed {
				args = append(args, "--detailed-exitcode")
			}
			out, errOut, code := runCLI(t, args...)
			if code != 1 {
				t.Errorf("%v: exit %d, want 1\n%s\n%s", args[3:], code, out, errOut)
			}
			if !strings.Contains(out, printed[format]) {
				t.Errorf("%v: the plan was not printed:\n%s", args[3:], out)
			}
			if !strings.Contains(errOut, "1 change is blocked, which apply would refuse") {
				t.Errorf("%v: stderr does not say why: %s", args[3:], errOut)
			}
		}
	}
	// The documented codes stay: changes → 0, or 2 with --detailed-exitcode.
	if _, errOut, code := runCLI(t, "plan", "-c", changes, "--format", "github"); code != 0 {
		t.Errorf("plan with changes: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "plan", "-c", changes, "--detailed-exitcode"); code != 2 {
		t.Errorf("plan --detailed-exitcode with changes: exit %d: %s", code, errOut)
	}
}
