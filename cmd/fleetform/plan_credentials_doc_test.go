package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"gopkg.in/yaml.v3"
)

// docAPIKeyBodies returns the bodies of the `POST /_security/api_key`
// blocks of docs/plan-credentials.md, in order: the main cluster's key,
// then a remote's.
func docAPIKeyBodies(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/plan-credentials.md")
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "POST /_security/api_key" {
			continue
		}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		bodies = append(bodies, strings.Join(body, "\n"))
	}
	return bodies
}

// createAPIKey posts body to the cluster's Elasticsearch as the superuser
// and returns the encoded key.
func createAPIKey(t *testing.T, c *fleetsim.Cluster, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.ESURL()+"/_security/api_key", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("elastic", "changeme")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Encoded string `json:"encoded"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Encoded == "" {
		t.Fatalf("create API key: %d %v\n%s", resp.StatusCode, err, body)
	}
	return out.Encoded
}

// docs/plan-credentials.md's CI recipe: with the read-only keys it tells
// you to create on the main cluster and on each remote, a two-cluster plan
// runs (exit 0, nothing to change) and writes nothing. The remote key used
// to lack read_security and view_index_metadata, and the plan stopped at
// "observe west: service tokens: … 403".
func TestPlanCredentialsDoc_ReadOnlyKeysPlanTwoClusters(t *testing.T) {
	bodies := docAPIKeyBodies(t)
	if len(bodies) != 2 {
		t.Fatalf("docs/plan-credentials.md has %d POST /_security/api_key blocks, want 2 (main, remote)", len(bodies))
	}
	dir, sim := twoClusterRepo(t, "packages:\n  - {name: nginx, version: 2.0.0}\n"+
		"agent_policies:\n  - {id: west-linux, name: West Linux, namespace: west, data_output_id: remote-west}\n")
	if _, errOut, code := runCLI(t, "apply", "-c", dir, "--auto-approve"); code != 0 {
		t.Fatalf("apply as the superuser: exit %d\n%s", code, errOut)
	}

	main, west := sim.Cluster("main"), sim.Cluster("west")
	t.Setenv("FF_PLAN_KEY_MAIN", createAPIKey(t, main, bodies[0]))
	t.Setenv("FF_PLAN_KEY_WEST", createAPIKey(t, west, bodies[1]))
	file := filepath.Join(dir, "fleet.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	basic := "auth: {basic: {username: elastic, password: {env: FF_CMD_TEST_PW}}}"
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(l, main.KibanaURL()) || strings.Contains(l, main.ESURL()):
			l = strings.Replace(l, basic, "auth: {api_key: {env: FF_PLAN_KEY_MAIN}}", 1)
		case strings.Contains(l, west.KibanaURL()) || strings.Contains(l, west.ESURL()):
			l = strings.Replace(l, basic, "auth: {api_key: {env: FF_PLAN_KEY_WEST}}", 1)
		}
		lines = append(lines, l)
	}
	rewritten := strings.Join(lines, "\n")
	if strings.Contains(rewritten, "FF_CMD_TEST_PW") {
		t.Fatalf("an endpoint still uses the superuser:\n%s", rewritten)
	}
	if err := os.WriteFile(file, []byte(rewritten), 0o644); err != nil {
		t.Fatal(err)
	}

	sim.ClearRequests()
	out, errOut, code := runCLI(t, "plan", "-c", dir, "--detailed-exitcode")
	if code != 0 || errOut != "" {
		t.Fatalf("plan with the recipe's keys: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var writes bytes.Buffer
	for _, r := range sim.Requests() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || isReadOnlySearch(r.Method, r.Path) {
			continue
		}
		writes.WriteString(r.Method + " " + r.Path + "\n")
	}
	if writes.Len() > 0 {
		t.Errorf("the plan wrote:\n%s", writes.String())
	}
}

// isReadOnlySearch: a search and its point in time are POST/DELETE
// requests that read.
func isReadOnlySearch(method, path string) bool {
	return method == http.MethodPost && (strings.HasSuffix(path, "/_search") || strings.HasSuffix(path, "/_pit")) ||
		method == http.MethodDelete && path == "/_pit"
}

// A key that authenticates but lacks a Fleet privilege passes the
// endpoint probe (GET /api/status answers), so the command's own error
// stands; it ends with a hint that says what is missing and where the
// privileges are listed, instead of leaving four raw 403s.
func TestDiagnose_MissingPrivilegeHints(t *testing.T) {
	dir, sim := twoClusterRepo(t, "")
	main := sim.Cluster("main")
	key := createAPIKey(t, main, `{"name": "no-fleet", "role_descriptors": {"r": {"cluster": ["monitor"],
		"indices": [{"names": ["fleetform-state"], "privileges": ["read"]}],
		"applications": [{"application": "kibana-.kibana", "privileges": ["feature_discover.read"], "resources": ["*"]}]}}}`)
	t.Setenv("FF_PLAN_KEY_MAIN", key)
	file := filepath.Join(dir, "fleet.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, main.KibanaURL()) {
			l = strings.Replace(l, "auth: {basic: {username: elastic, password: {env: FF_CMD_TEST_PW}}}", "auth: {api_key: {env: FF_PLAN_KEY_MAIN}}", 1)
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "plan", "-c", dir)
	if code != 1 || !strings.Contains(errOut, "GET /api/fleet/outputs: 403 Forbidden") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	const hint = "  hint: the credentials authenticate but lack a privilege this command needs (the 403s above name it); docs/plan-credentials.md lists what a plan needs, docs/security.md what apply needs"
	if !strings.HasSuffix(strings.TrimSuffix(errOut, "\n"), hint) {
		t.Errorf("stderr does not end with the hint:\n%s", errOut)
	}
}

// docWorkflowSteps returns the run: lines of the GitHub Actions workflow in
// docs/plan-credentials.md's CI recipe, in order.
func docWorkflowSteps(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/plan-credentials.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "# .github/workflows/fleetform-plan.yml\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("docs/plan-credentials.md has no fenced .github/workflows/fleetform-plan.yml block")
	}
	var doc struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatalf("the workflow is not YAML: %v\n%s", err, block)
	}
	var runs []string
	for _, s := range doc.Jobs["plan"].Steps {
		if s.Run != "" {
			runs = append(runs, s.Run)
		}
	}
	return runs
}

// The recipe's workflow used to run `fleetform plan … --detailed-exitcode`
// as is: a step fails on any exit but 0, so every pull request with a
// change (exit 2) was red, and no step installed fleetform. Its plan step,
// run by bash -e as GitHub runs it with fleetform exiting 0, 2 and 1, must
// pass, pass and fail; fleetform must be installed before it, and its flags
// must be fleetform's.
func TestPlanCredentialsDoc_WorkflowPassesOnChanges(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	runs := docWorkflowSteps(t)
	plan := slices.IndexFunc(runs, func(r string) bool { return strings.HasPrefix(r, "fleetform plan ") })
	if plan < 0 {
		t.Fatalf("no step runs fleetform plan: %q", runs)
	}
	if !slices.ContainsFunc(runs[:plan], func(r string) bool {
		return strings.HasPrefix(r, "go install github.com/fleetform/fleetform/cmd/fleetform@")
	}) {
		t.Errorf("no step installs fleetform before the plan: %q", runs)
	}
	line, _, _ := strings.Cut(runs[plan], " ||")
	args := shellWords(strings.TrimPrefix(line, "fleetform "))
	if _, errOut, code := runCLI(t, append(args, "-h")...); code != 0 || strings.Contains(errOut, "unknown flag") {
		t.Errorf("%q does not parse: exit %d\n%s", line, code, errOut)
	}
	for _, tt := range []struct {
		exit     int
		wantPass bool
	}{{0, true}, {2, true}, {1, false}} {
		script := fmt.Sprintf("fleetform() { return %d; }\n%s\n", tt.exit, runs[plan])
		err := exec.Command("bash", "-e", "-c", script).Run()
		if (err == nil) != tt.wantPass {
			t.Errorf("with fleetform exiting %d the step passes = %v, want %v (%q)", tt.exit, err == nil, tt.wantPass, runs[plan])
		}
	}
}
