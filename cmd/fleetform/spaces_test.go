package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/secret"
)

// Spaces: from 9.1 Kibana's Fleet scopes agent and integration policies by
// space (elastic/kibana x-pack/platform/plugins/shared/fleet/server/services/spaces/,
// test/fleet_api_integration/apis/space_awareness/agent_policies.ts); a
// repository names its space with clusters.main.kibana.space.

// spaceRepo writes a repository for one space of sim's main cluster.
func spaceRepo(t *testing.T, sim *fleetsim.Sim, space, policies string) string {
	t.Helper()
	dir := t.TempDir()
	main := sim.Cluster("main")
	spaceLine := ""
	if space != "" {
		spaceLine = ", space: " + space
	}
	files := map[string]string{
		"clusters.yaml": fmt.Sprintf(`clusters:
  main:
    kibana: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}%s}
    elasticsearch: {url: %s, auth: {basic: {username: elastic, password: {env: FLEETFORM_TEST_PW}}}}
`, main.KibanaURL(), spaceLine, main.ESURL()),
	}
	if policies != "" {
		files["policies.yaml"] = "agent_policies:\n" + policies
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// createSpace creates a Kibana space through the Spaces API.
func createSpace(t *testing.T, sim *fleetsim.Sim, id string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, sim.Cluster("main").KibanaURL()+"/api/spaces/space", strings.NewReader(fmt.Sprintf(`{"id":%q,"name":%q}`, id, id)))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("elastic", "changeme")
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create space %s: %d", id, resp.StatusCode)
	}
}

func policyIDsIn(t *testing.T, sim *fleetsim.Sim, space string) []string {
	t.Helper()
	kb, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")}, kibana.WithSpace(space))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := kb.ListAgentPolicies(context.Background(), kibana.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestSpaces_TwoRepositoriesTwoSpaces(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	createSpace(t, sim, "team-a")
	createSpace(t, sim, "team-b")
	a := spaceRepo(t, sim, "team-a", "  - {id: pa, name: Shared name, namespace: default}\n")
	b := spaceRepo(t, sim, "team-b", "  - {id: pb, name: Shared name, namespace: default}\n  - {id: pb2, name: B2, namespace: default}\n")

	out, errOut, code := runCLI(t, "apply", "-c", a, "--instance", "team-a")
	if code != 0 || !strings.Contains(out, "Kibana space: team-a") {
		t.Fatalf("apply a: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code := runCLI(t, "apply", "-c", b, "--instance", "team-b", "--prune"); code != 0 {
		t.Fatalf("apply b: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := policyIDsIn(t, sim, "team-a"); !slices.Equal(got, []string{"pa"}) {
		t.Errorf("team-a holds %v", got)
	}
	if got := policyIDsIn(t, sim, "team-b"); !slices.Equal(got, []string{"pb", "pb2"}) {
		t.Errorf("team-b holds %v", got)
	}
	if got := policyIDsIn(t, sim, ""); len(got) != 0 {
		t.Errorf("default space holds %v", got)
	}
	// Neither sees the other's policies: no changes, and none listed as unmanaged.
	for _, r := range []struct{ dir, inst, other string }{{a, "team-a", "pb"}, {b, "team-b", "pa"}} {
		out, errOut, code := runCLI(t, "plan", "-c", r.dir, "--instance", r.inst, "--prune", "--show-unmanaged", "--detailed-exitcode")
		if code != 0 || strings.Contains(out, `"`+r.other+`"`) || strings.Contains(out, " "+r.other+" ") {
			t.Errorf("plan %s: exit %d\n%s\n%s", r.inst, code, out, errOut)
		}
	}
	// B drops pb2 and prunes: only pb2 goes.
	b2 := spaceRepo(t, sim, "team-b", "  - {id: pb, name: Shared name, namespace: default}\n")
	if err := os.WriteFile(filepath.Join(b, "policies.yaml"), mustRead(t, filepath.Join(b2, "policies.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, "apply", "-c", b, "--instance", "team-b", "--prune")
	if code != 0 || !strings.Contains(out, `agent_policy "pb2" will be deleted`) {
		t.Fatalf("apply b --prune: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := policyIDsIn(t, sim, "team-a"); !slices.Equal(got, []string{"pa"}) {
		t.Errorf("after b's prune team-a holds %v", got)
	}
	if got := policyIDsIn(t, sim, "team-b"); !slices.Equal(got, []string{"pb"}) {
		t.Errorf("after b's prune team-b holds %v", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSpaces_UnknownSpaceIsAnError(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	dir := spaceRepo(t, sim, "nope", "  - {id: p, name: P, namespace: default}\n")
	for _, cmd := range [][]string{{"plan", "-c", dir}, {"apply", "-c", dir}, {"import", "-c", spaceRepo(t, sim, "nope", "")}} {
		_, errOut, code := runCLI(t, cmd...)
		if code == 0 || !strings.Contains(errOut, `kibana space "nope" does not exist`) {
			t.Errorf("%s: exit %d: %s", cmd[0], code, errOut)
		}
	}
	if got := policyIDsIn(t, sim, "nope"); len(got) != 0 {
		t.Errorf("agent policies created: %v", got)
	}
}

func TestSpaces_ImportReadsItsSpaceOnly(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	createSpace(t, sim, "team-a")
	ctx := t.Context()
	for space, id := range map[string]string{"team-a": "in-a", "": "in-default"} {
		kb, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")}, kibana.WithSpace(space))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kb.CreateAgentPolicy(ctx, map[string]any{"id": id, "name": id, "namespace": "default"}); err != nil {
			t.Fatal(err)
		}
	}
	dir := spaceRepo(t, sim, "team-a", "")
	out, errOut, code := runCLI(t, "import", "-c", dir, "--adopt")
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	var all string
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		all += string(mustRead(t, f))
	}
	if !strings.Contains(all, "in-a") || strings.Contains(all, "in-default") {
		t.Errorf("imported files:\n%s", all)
	}
	if out, errOut, code := runCLI(t, "plan", "-c", dir, "--detailed-exitcode"); code != 0 {
		t.Errorf("plan after import: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestSpaces_Validate(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	dir := spaceRepo(t, sim, "", "")
	body := strings.Replace(string(mustRead(t, filepath.Join(dir, "clusters.yaml"))), "password: {env: FLEETFORM_TEST_PW}}}}\n", "password: {env: FLEETFORM_TEST_PW}}}, space: x}\n", 2)
	if err := os.WriteFile(filepath.Join(dir, "clusters.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "validate", "-c", dir)
	if code == 0 || !strings.Contains(out+errOut, "space applies to clusters.main.kibana only") {
		t.Errorf("validate: exit %d\n%s\n%s", code, out, errOut)
	}
	// space_ids that leave the repository's space would move the policy out
	// of fleetform's sight; "*" and the space itself are fine.
	// "?" is Kibana's stand-in for an unreadable space, never a space id.
	const leaves, unknown = "leave this repository's Kibana space", `"?" is how Kibana shows a space these credentials cannot read`
	for _, c := range []struct {
		space, ids string
		ok         bool
		msg        string
	}{{"team-a", "[default]", false, leaves}, {"", "[team-a]", false, leaves}, {"team-a", "[team-a, default]", true, ""}, {"", "['*']", true, ""},
		{"", "[default, '?']", false, unknown}} {
		dir := spaceRepo(t, sim, c.space, "  - {id: p, name: P, namespace: default, space_ids: "+c.ids+"}\n")
		out, errOut, code := runCLI(t, "validate", "-c", dir)
		if got := code == 0; got != c.ok || !c.ok && !strings.Contains(out+errOut, c.msg) {
			t.Errorf("space %q space_ids %s: exit %d\n%s\n%s", c.space, c.ids, code, out, errOut)
		}
	}
}

// Before 9.1 Fleet is not space-aware: the plan says the space scopes nothing.
func TestSpaces_PlanWarnsBeforeSpaceAwareness(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", Version: "9.0.0"})
	createSpace(t, sim, "team-a")
	dir := spaceRepo(t, sim, "team-a", "  - {id: p, name: P, namespace: default}\n")
	out, errOut, code := runCLI(t, "plan", "-c", dir)
	if code != 0 || !strings.Contains(out, `clusters.main.kibana.space is "team-a", but Kibana 9.0.0's Fleet is not space-aware`) {
		t.Errorf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
}

// Two repositories for two spaces that choose no --instance still keep
// their ownership apart (reconciler.InstanceFor: "default@SPACE"): B's
// apply used to drop A's records, so A's next plan adopted its own policy
// again.
func TestSpaces_DefaultInstanceIsPerSpace(t *testing.T) {
	t.Setenv("FLEETFORM_TEST_PW", "changeme")
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	createSpace(t, sim, "team-a")
	createSpace(t, sim, "team-b")
	a := spaceRepo(t, sim, "team-a", "  - {id: pa, name: A, namespace: default}\n")
	b := spaceRepo(t, sim, "team-b", "  - {id: pb, name: B, namespace: default}\n")
	for _, dir := range []string{a, b} {
		if out, errOut, code := runCLI(t, "apply", "-c", dir, "--prune"); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s\n%s", dir, code, out, errOut)
		}
	}
	for _, dir := range []string{a, b} {
		out, errOut, code := runCLI(t, "plan", "-c", dir, "--prune", "--detailed-exitcode")
		if code != 0 || !strings.Contains(out, "No changes.") {
			t.Errorf("plan %s after both applied: exit %d\n%s\n%s", dir, code, out, errOut)
		}
	}
}
