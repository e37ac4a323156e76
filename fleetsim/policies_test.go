package fleetsim

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func newPolicy(name string, extra map[string]any) map[string]any {
	b := map[string]any{"name": name, "namespace": "default"}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// Trap 2: GET→PUT does not round-trip.
func TestAgentPolicies_PutRejectsReadOnlyFields(t *testing.T) {
	_, kb := startMain(t)
	item := kb.do("POST", "/api/fleet/agent_policies", newPolicy("P", map[string]any{"id": "p"})).must(t, 200).item()
	delete(item, "id")
	delete(item, "package_policies")
	r := kb.do("PUT", "/api/fleet/agent_policies/p", item)
	if r.Status != 400 {
		t.Fatalf("PUT of a GET body: %d %s", r.Status, r.Raw)
	}
	kb.do("PUT", "/api/fleet/agent_policies/p", newPolicy("P", map[string]any{"revision": 3})).
		wantError(t, 400, "[request body.revision]: definition for this key is missing")
}

func TestAgentPolicies_PutWithoutInactivityTimeoutResetsIt(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("P", map[string]any{"id": "p", "inactivity_timeout": 60})).must(t, 200)
	item := kb.do("PUT", "/api/fleet/agent_policies/p", newPolicy("P", nil)).must(t, 200).item()
	if item["inactivity_timeout"] != 1209600.0 {
		t.Errorf("inactivity_timeout = %v, want 1209600", item["inactivity_timeout"])
	}
}

// 3.3: partial PUT — an omitted data_output_id is kept, null clears it.
func TestAgentPolicies_PartialPutKeepsOmittedOutputIDs(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("P", map[string]any{"id": "p", "data_output_id": "fleet-default-output"})).must(t, 200)
	item := kb.do("PUT", "/api/fleet/agent_policies/p", newPolicy("P", map[string]any{"description": "d"})).must(t, 200).item()
	if item["data_output_id"] != "fleet-default-output" {
		t.Errorf("omitted data_output_id changed: %v", item["data_output_id"])
	}
	item = kb.do("PUT", "/api/fleet/agent_policies/p", newPolicy("P", map[string]any{"data_output_id": nil})).must(t, 200).item()
	if v, ok := item["data_output_id"]; !ok || v != nil {
		t.Errorf("data_output_id = %v (present %v), want null", v, ok)
	}
	// Never set: absent.
	fresh := kb.do("POST", "/api/fleet/agent_policies", newPolicy("Q", nil)).must(t, 200).item()
	if _, ok := fresh["data_output_id"]; ok {
		t.Errorf("data_output_id present on a policy that never set it")
	}
}

// Trap 15.
func TestAgentPolicies_PerPolicyOutputNeedsPlatinum_FleetServerExempt(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", License: "basic"})
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("P", map[string]any{"data_output_id": "fleet-default-output"})).
		wantError(t, 400, "Invalid licence to set per policy output, you need platinum licence")
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("FS", map[string]any{"has_fleet_server": true, "data_output_id": "fleet-default-output"})).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("Q", map[string]any{"id": "q"})).must(t, 200)
	kb.do("PUT", "/api/fleet/agent_policies/q", newPolicy("Q", map[string]any{"monitoring_output_id": "fleet-default-output"})).
		wantError(t, 400, "Invalid licence to set per policy output, you need platinum licence")
}

// Trap 14.
func TestAgentPolicies_OutputValidationSkippedWhenOutputsUnchanged(t *testing.T) {
	s, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "ls", "name": "ls", "type": "logstash", "hosts": []any{"ls:5044"}}).must(t, 200)
	ls := "ls"
	seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "fs", Name: "FS", HasFleetServer: true, DataOutputID: &ls}}})
	// Output ids unchanged: no validation, even though logstash is not allowed.
	kb.do("PUT", "/api/fleet/agent_policies/fs", newPolicy("FS", map[string]any{"description": "x"})).must(t, 200)
	// Changing them validates.
	r := kb.do("PUT", "/api/fleet/agent_policies/fs", newPolicy("FS", map[string]any{"monitoring_output_id": "ls"}))
	r.wantError(t, 400, `Output of type "logstash" is not usable with policy "FS".`)
	r.wantAttrType(t, "OutputInvalidError")
	// Existence of an unrestricted policy's output is not checked.
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("Free", map[string]any{"data_output_id": "does-not-exist"})).must(t, 200)
}

// Trap 31 (policies half).
func TestAgentPolicies_NamesUnique409(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("Same", map[string]any{"id": "a"})).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("Same", nil)).wantError(t, 409, "Agent Policy 'a' already exists with name 'Same'")
}

func TestAgentPolicies_ManagedGuard(t *testing.T) {
	s, kb := startMain(t)
	seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "m", Name: "M", IsManaged: true}}})
	kb.do("PUT", "/api/fleet/agent_policies/m", newPolicy("M", map[string]any{"description": "x"})).
		wantError(t, 400, "Cannot update description in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution.")
	kb.do("PUT", "/api/fleet/agent_policies/m", newPolicy("M", map[string]any{"description": "x", "force": true})).must(t, 200)
}

func TestAgentPolicies_NotFound(t *testing.T) {
	_, kb := startMain(t)
	kb.do("GET", "/api/fleet/agent_policies/nope", nil).wantError(t, 404, "Saved object [fleet-agent-policies/nope] not found")
}

// 3.1: paging and the kuery on output ids.
func TestAgentPolicies_ListPagingAndKuery(t *testing.T) {
	s, kb := startMain(t)
	a, b := "out-a", "out-b"
	var seeds []SeedAgentPolicy
	for i := range 45 {
		p := SeedAgentPolicy{ID: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("P%02d", i)}
		switch i % 3 {
		case 1:
			p.DataOutputID = &a
		case 2:
			p.MonitoringOutputID = &b
		}
		seeds = append(seeds, p)
	}
	seedPolicies(t, s, &ClusterSeed{AgentPolicies: seeds})
	r := kb.do("GET", "/api/fleet/agent_policies", nil).must(t, 200)
	if len(r.items()) != 20 || r.Body["total"] != 45.0 || r.Body["perPage"] != 20.0 || r.Body["page"] != 1.0 {
		t.Errorf("default page: %d items, total %v", len(r.items()), r.Body["total"])
	}
	seen := map[string]bool{}
	for page := 1; page <= 5; page++ {
		r := kb.do("GET", fmt.Sprintf("/api/fleet/agent_policies?perPage=10&page=%d&sortField=name&sortOrder=asc", page), nil).must(t, 200)
		for _, it := range r.items() {
			seen[it.(map[string]any)["id"].(string)] = true
		}
	}
	if len(seen) != 45 {
		t.Errorf("paging saw %d distinct policies, want 45", len(seen))
	}
	count := func(kuery string) int {
		r := kb.do("GET", "/api/fleet/agent_policies?perPage=100&kuery="+url.QueryEscape(kuery), nil).must(t, 200)
		return int(r.Body["total"].(float64))
	}
	for _, tc := range []struct {
		kuery string
		want  int
	}{
		{`ingest-agent-policies.data_output_id:"out-a"`, 15},
		{`fleet-agent-policies.monitoring_output_id:"out-b"`, 15},
		{`ingest-agent-policies.data_output_id:"out-a" or ingest-agent-policies.monitoring_output_id:"out-b"`, 30},
		{`ingest-agent-policies.data_output_id:"out-a" and ingest-agent-policies.is_managed:false`, 15},
		{`ingest-agent-policies.is_managed:true`, 0},
	} {
		if got := count(tc.kuery); got != tc.want {
			t.Errorf("kuery %s: %d, want %d", tc.kuery, got, tc.want)
		}
	}
	kb.do("GET", "/api/fleet/agent_policies?kuery="+url.QueryEscape(`ingest-agent-policies.colour:"red"`), nil).
		wantError(t, 400, "[request query.kuery]: KQLSyntaxError: This key 'ingest-agent-policies.colour' does NOT exist in ingest-agent-policies saved object index patterns")
	if got := count("P07"); got != 1 { // not KQL: a search term
		t.Errorf("search fallback found %d, want 1", got)
	}
	r = kb.do("POST", "/api/fleet/agent_policies/_bulk_get", map[string]any{"ids": []any{"p01", "p02"}}).must(t, 200)
	if len(r.items()) != 2 {
		t.Errorf("bulk get = %s", r.Raw)
	}
	kb.do("POST", "/api/fleet/agent_policies/_bulk_get", map[string]any{"ids": []any{"p01", "nope"}}).must(t, 404)
	kb.do("GET", "/api/fleet/agent_policies?perPage=101&full=true", nil).
		wantError(t, 400, "[request query]: perPage should be less or equal to 100 when fetching full policies or agent count.")
}

func TestAgentPolicies_CreateWithFleetServerGetsWellKnownIDAndPackagePolicy(t *testing.T) {
	_, kb := startMain(t)
	item := kb.do("POST", "/api/fleet/agent_policies", newPolicy("FS", map[string]any{"has_fleet_server": true})).must(t, 200).item()
	if item["id"] != "fleet-server-policy" {
		t.Errorf("id = %v", item["id"])
	}
	pps := kb.do("GET", "/api/fleet/package_policies", nil).must(t, 200).items()
	if len(pps) != 1 || getPathT(pps[0].(map[string]any), "package", "name") != "fleet_server" {
		t.Errorf("package policies = %v", pps)
	}
}

// Every PUT bumps the revision, even one that changes nothing (_update's
// bumpRevision defaults to true); only bumpRevision:false avoids it.
func TestAgentPolicies_EveryPutBumpsRevision_Delete(t *testing.T) {
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/agent_policies", newPolicy("P", map[string]any{"id": "p"})).must(t, 200)
	item := kb.do("PUT", "/api/fleet/agent_policies/p", newPolicy("P", nil)).must(t, 200).item()
	if item["revision"] != 2.0 {
		t.Errorf("no-op PUT: revision = %v, want 2", item["revision"])
	}
	item = kb.do("PUT", "/api/fleet/agent_policies/p", newPolicy("P", map[string]any{"description": "x", "bumpRevision": false})).must(t, 200).item()
	if item["revision"] != 2.0 || item["description"] != "x" {
		t.Errorf("bumpRevision:false: revision = %v", item["revision"])
	}
	r := kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "p"}).must(t, 200)
	if d := cmp.Diff(map[string]any{"id": "p", "name": "P"}, r.Body); d != "" {
		t.Errorf("delete: %s", d)
	}
}

func TestPackagePolicies_ListWithAgentCountsFromSeed(t *testing.T) {
	s, kb := startMain(t)
	seedPolicies(t, s, &ClusterSeed{
		AgentPolicies:   []SeedAgentPolicy{{ID: "p", Name: "P"}},
		PackagePolicies: []SeedPackagePolicy{{ID: "pp", Name: "nginx-1", PolicyIDs: []string{"p"}, Package: pkgRef("nginx", "2.0.0"), Agents: 7}},
	})
	items := kb.do("GET", "/api/fleet/package_policies?perPage=10&withAgentCount=true", nil).must(t, 200).items()
	if len(items) != 1 {
		t.Fatalf("items = %v", items)
	}
	pp := items[0].(map[string]any)
	if pp["agents"] != 7.0 || getPathT(pp, "package", "version") != "2.0.0" || pp["policy_id"] != "p" {
		t.Errorf("package policy = %v", pp)
	}
	if _, has := kb.do("GET", "/api/fleet/agent_policies?perPage=10", nil).must(t, 200).items()[0].(map[string]any)["agents"]; has {
		t.Errorf("agents counted without withAgentCount")
	}
	if got := kb.do("GET", "/api/fleet/agent_policies?perPage=10&withAgentCount=true", nil).must(t, 200).items()[0].(map[string]any)["agents"]; got != 7.0 {
		t.Errorf("agent policy agents = %v, want 7 from the seed", got)
	}
}

// types/models/agent_policy.ts AgentPolicyBaseSchema: the fields that were
// typed "any" and the validate functions of namespace and timeouts.
func TestAgentPolicyTS_SchemaRules(t *testing.T) {
	_, kb := startMain(t)
	for _, tc := range []struct {
		name    string
		extra   map[string]any
		message string
	}{
		{"namespace uppercase", map[string]any{"namespace": "Prod"}, "[request body.namespace]: Namespace must be lowercase"},
		{"namespace dash", map[string]any{"namespace": "prod-eu"}, "[request body.namespace]: Namespace contains invalid characters"},
		{"namespace blank", map[string]any{"namespace": " "}, "[request body.namespace]: Namespace is required"},
		{"inactivity_timeout fraction", map[string]any{"inactivity_timeout": 1.5}, "[request body.inactivity_timeout]: 1.5 is not a valid integer"},
		{"unenroll_timeout negative", map[string]any{"unenroll_timeout": -1}, "[request body.unenroll_timeout]: Value must be equal to or greater than [0]."},
		{"overrides inputs", map[string]any{"overrides": map[string]any{"inputs": map[string]any{}}}, "[request body.overrides]: types that failed validation:\n- [request body.overrides.0]: expected value to equal [null]\n- [request body.overrides.1]: inputs overrides is not allowed"},
		{"agent_features shape", map[string]any{"agent_features": []any{map[string]any{"name": "fqdn"}}}, "[request body.agent_features.0.enabled]: expected value of type [boolean] but got [undefined]"},
		{"global_data_tags duplicates", map[string]any{"global_data_tags": []any{map[string]any{"name": "a", "value": "1"}, map[string]any{"name": "a", "value": 2}}}, "[request body.global_data_tags]: Found duplicate tag names: ['a'], duplicate tag names are not allowed."},
		{"agentless memory", map[string]any{"agentless": map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "1G"}}}}, "[request body.agentless.resources.requests.memory]: Invalid memory format"},
		{"required_versions percentage", map[string]any{"required_versions": []any{map[string]any{"version": "9.1.0", "percentage": 101}}}, "[request body.required_versions]: types that failed validation:\n- [request body.required_versions.0]: expected value to equal [null]\n- [request body.required_versions.1.0.percentage]: Value must be equal to or lower than [100]."},
		{"data_output_id number", map[string]any{"data_output_id": 5}, "[request body.data_output_id]: types that failed validation:\n- [request body.data_output_id.0]: expected value to equal [null]\n- [request body.data_output_id.1]: expected value of type [string] but got [number]"},
		{"valid", map[string]any{"namespace": "prod_eu", "agent_features": []any{map[string]any{"name": "fqdn", "enabled": true}}, "monitoring_http": map[string]any{"enabled": true}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"name": "p " + tc.name, "namespace": "default"}
			for k, v := range tc.extra {
				body[k] = v
			}
			r := kb.do("POST", "/api/fleet/agent_policies", body)
			if tc.message == "" {
				r.must(t, 200)
				return
			}
			r.wantError(t, 400, tc.message)
		})
	}
}
