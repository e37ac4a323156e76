package fleetsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Package-policy routes. Rules and messages follow
// FLEET/common/services/simplified_package_policy_helper.ts,
// FLEET/common/services/validate_package_policy.ts,
// FLEET/server/services/package_policies/utils.ts (preflightCheckPackagePolicy)
// and FLEET/server/routes/package_policy/handlers.ts in elastic/kibana.

func newAgentPolicy(t *testing.T, kb *client, id string) {
	t.Helper()
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": id, "name": "P " + id, "namespace": "default"}).must(t, 200)
}

func revisionOf(t *testing.T, kb *client, id string) float64 {
	t.Helper()
	r, _ := kb.do("GET", "/api/fleet/agent_policies/"+id, nil).must(t, 200).item()["revision"].(float64)
	return r
}

func nginxSimplified(name string, policyIDs ...string) map[string]any {
	ids := make([]any, len(policyIDs))
	for i, id := range policyIDs {
		ids[i] = id
	}
	return map[string]any{
		"name": name, "namespace": "default", "policy_ids": ids,
		"package": map[string]any{"name": "nginx", "version": "2.1.0"},
		"inputs": map[string]any{
			"nginx-logfile": map[string]any{"streams": map[string]any{
				"nginx.access": map[string]any{"vars": map[string]any{"paths": []any{"/srv/log/access.log"}}},
				"nginx.error":  map[string]any{"enabled": false},
			}},
			"nginx-nginx/metrics": map[string]any{"enabled": false},
		},
	}
}

func TestPackagePolicies_CreateSimplified_DefaultsFromManifestAndBumpsAgentPolicy(t *testing.T) {
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	before := revisionOf(t, kb, "p1")
	item := kb.do("POST", "/api/fleet/package_policies?format=simplified", nginxSimplified("nginx-1", "p1")).must(t, 200).item()
	in, _ := getPathT(item, "inputs", "nginx-logfile").(map[string]any)
	if in["enabled"] != true {
		t.Errorf("nginx-logfile enabled = %v", in["enabled"])
	}
	access := getPathT(in, "streams", "nginx.access", "vars").(map[string]any)
	if got, _ := json.Marshal(access["paths"]); string(got) != `["/srv/log/access.log"]` {
		t.Errorf("access paths = %s", got)
	}
	if access["ignore_older"] != "72h" {
		t.Errorf("default ignore_older = %v, want the manifest default 72h", access["ignore_older"])
	}
	if getPathT(in, "streams", "nginx.error", "enabled") != false {
		t.Errorf("nginx.error should be disabled: %v", in["streams"])
	}
	if getPathT(item, "inputs", "nginx-nginx/metrics", "enabled") != false {
		t.Error("metrics input should be disabled")
	}
	// httpjson streams are enabled: false in the data stream manifests.
	if getPathT(item, "inputs", "nginx-httpjson", "streams", "nginx.access", "enabled") != false {
		t.Error("httpjson stream should keep its manifest default enabled: false")
	}
	if got := revisionOf(t, kb, "p1"); got != before+1 {
		t.Errorf("agent policy revision %v, want %v", got, before+1)
	}
	// The full format of the same policy: an array with stream ids.
	full := kb.do("GET", "/api/fleet/package_policies/"+item["id"].(string), nil).must(t, 200).item()
	inputs := full["inputs"].([]any)
	if len(inputs) != 3 {
		t.Fatalf("full inputs = %d, want 3 (logfile, httpjson, nginx/metrics)", len(inputs))
	}
	st := getPathT(inputs[0].(map[string]any), "streams").([]any)[0].(map[string]any)
	if st["id"] != "logfile-nginx.access-"+item["id"].(string) {
		t.Errorf("stream id = %v", st["id"])
	}
	inst := kb.do("GET", "/api/fleet/epm/packages/nginx", nil).must(t, 200).item()
	if inst["status"] != "installed" {
		t.Errorf("creating the policy should install nginx; status %v", inst["status"])
	}
}

func TestPackagePolicies_Refusals(t *testing.T) {
	cases := []struct {
		name    string
		license string
		mutate  func(b map[string]any)
		status  int
		message string
	}{
		{"unknown input", "", func(b map[string]any) {
			b["inputs"] = map[string]any{"nginx-winlog": map[string]any{}}
		}, 400, "Input not found: nginx-winlog"},
		{"unknown stream", "", func(b map[string]any) {
			b["inputs"] = map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.nope": map[string]any{}}}}
		}, 400, "Stream not found nginx-logfile: nginx.nope"},
		{"unknown stream var", "", func(b map[string]any) {
			b["inputs"] = map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{"nope": 1}}}}}
		}, 400, "Variable nginx-logfile nginx.access:nope not found"},
		{"required multi var emptied", "", func(b map[string]any) {
			b["inputs"] = map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{"paths": []any{}}}}}}
		}, 400, `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.paths: ["Paths is required"]`},
		{"bool var", "", func(b map[string]any) {
			b["inputs"] = map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{"preserve_original_event": "yes"}}}}}
		}, 400, `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.preserve_original_event: ["Boolean values must be either true or false"]`},
		{"unquoted yaml special", "", func(b map[string]any) {
			b["inputs"] = map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{"paths": []any{"*.log"}}}}}}
		}, 400, `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.paths: ["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`},
		{"output per integration needs enterprise", "platinum", func(b map[string]any) {
			b["output_id"] = defaultOutputID
		}, 400, "Output per integration is only available with an enterprise license"},
		{"reusable policies need enterprise", "platinum", func(b map[string]any) {
			b["policy_ids"] = []any{"p1", "p2"}
		}, 400, "Reusable integration policies are only available with an Enterprise license"},
		{"unknown agent policy", "", func(b map[string]any) {
			b["policy_ids"] = []any{"nope"}
		}, 404, "Saved object [fleet-agent-policies/nope] not found"},
		{"upper-case namespace", "", func(b map[string]any) { b["namespace"] = "Prod" },
			400, `Package policy is invalid: namespace: ["Namespace must be lowercase"]`},
		{"namespace with a dash", "", func(b map[string]any) { b["namespace"] = "team-a" },
			400, `Package policy is invalid: namespace: ["Namespace contains invalid characters"]`},
		{"unknown package version", "", func(b map[string]any) {
			b["package"] = map[string]any{"name": "nginx", "version": "9.9.9"}
		}, 404, "[nginx-9.9.9] package not found in registry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, kb := startMain(t, ClusterConfig{Name: "main", License: tc.license})
			newAgentPolicy(t, kb, "p1")
			newAgentPolicy(t, kb, "p2")
			b := nginxSimplified("nginx-1", "p1")
			tc.mutate(b)
			kb.do("POST", "/api/fleet/package_policies", b).wantError(t, tc.status, tc.message)
		})
	}
}

func TestPackagePolicies_NameMustBeUnique(t *testing.T) {
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1")).must(t, 200)
	kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1")).wantError(t, http.StatusConflict,
		"An integration policy with the name nginx-1 already exists. Please rename it or choose a different name.")
}

func TestPackagePolicies_OutputIDRules(t *testing.T) {
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "ls", "name": "ls", "type": "logstash", "hosts": []any{"ls.example:5044"}}).must(t, 200)
	// fleet_server, apm and synthetics may only use elasticsearch outputs (output_helpers.ts).
	kb.do("POST", "/api/fleet/package_policies", map[string]any{
		"name": "fs", "policy_ids": []any{"p1"}, "output_id": "ls",
		"package": map[string]any{"name": "fleet_server", "version": "1.6.0"},
	}).wantError(t, 400, `Output type "logstash" is not usable with package "fleet_server"`)
	item := kb.do("POST", "/api/fleet/package_policies", map[string]any{
		"name": "nginx-ls", "policy_ids": []any{"p1"}, "output_id": "ls",
		"package": map[string]any{"name": "nginx", "version": "2.1.0"},
	}).must(t, 200).item()
	if item["output_id"] != "ls" {
		t.Errorf("output_id = %v", item["output_id"])
	}
	kb.do("POST", "/api/fleet/package_policies", map[string]any{
		"name": "nginx-x", "policy_ids": []any{"p1"}, "output_id": "nope",
		"package": map[string]any{"name": "nginx", "version": "2.1.0"},
	}).wantError(t, 404, "Saved object [ingest-outputs/"+outputIDToUUID("nope")+"] not found")
}

func TestPackagePolicies_SecretVarStoredAsFleetSecret(t *testing.T) {
	sim, kb := startMain(t, ClusterConfig{Name: "main", SecretStorage: "on"})
	newAgentPolicy(t, kb, "p1")
	b := nginxSimplified("nginx-1", "p1")
	b["inputs"].(map[string]any)["nginx-httpjson"] = map[string]any{"vars": map[string]any{"password": "hunter2"}}
	item := kb.do("POST", "/api/fleet/package_policies?format=simplified", b).must(t, 200).item()
	ref, _ := getPathT(item, "inputs", "nginx-httpjson", "vars", "password").(map[string]any)
	id, _ := ref["id"].(string)
	if ref["isSecretRef"] != true || id == "" {
		t.Fatalf("password = %v, want a secret reference", ref)
	}
	if v, ok := sim.Cluster("main").ES().GetFleetSecret(id); !ok || v != "hunter2" {
		t.Errorf("secret %s = %q, %v", id, v, ok)
	}
	if refs, _ := item["secret_references"].([]any); len(refs) != 1 {
		t.Errorf("secret_references = %v", item["secret_references"])
	}
	if strings.Contains(string(kb.do("GET", "/api/fleet/package_policies?format=simplified", nil).Raw), "hunter2") {
		t.Error("the list shows the plain secret")
	}
	// Deleting the policy deletes its secrets.
	kb.do("DELETE", "/api/fleet/package_policies/"+item["id"].(string), nil).must(t, 200)
	if _, ok := sim.Cluster("main").ES().GetFleetSecret(id); ok {
		t.Error("secret survived the policy")
	}
}

func TestPackagePolicies_UpdateDeleteBulkGet(t *testing.T) {
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	item := kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1")).must(t, 200).item()
	id := item["id"].(string)
	rev := revisionOf(t, kb, "p1")
	b := nginxSimplified("nginx-1", "p1")
	b["description"] = "edge"
	up := kb.do("PUT", "/api/fleet/package_policies/"+id+"?format=simplified", b).must(t, 200).item()
	if up["revision"] != 2.0 || up["description"] != "edge" {
		t.Errorf("after update revision %v description %v", up["revision"], up["description"])
	}
	if got := revisionOf(t, kb, "p1"); got != rev+1 {
		t.Errorf("agent policy revision %v, want %v", got, rev+1)
	}
	kb.do("PUT", "/api/fleet/package_policies/nope", b).wantError(t, 404, "Package policy not found")
	kb.do("POST", "/api/fleet/package_policies/_bulk_get", map[string]any{"ids": []any{id, "nope"}}).wantError(t, 404, "Package policy nope not found")
	got := kb.do("POST", "/api/fleet/package_policies/_bulk_get?format=simplified", map[string]any{"ids": []any{id, "nope"}, "ignoreMissing": true}).must(t, 200).items()
	if len(got) != 1 {
		t.Fatalf("bulk get = %d items", len(got))
	}
	res := kb.do("POST", "/api/fleet/package_policies/delete", map[string]any{"packagePolicyIds": []any{id, "nope"}}).must(t, 200)
	var out []map[string]any
	if err := json.Unmarshal(res.Raw, &out); err != nil || len(out) != 2 {
		t.Fatalf("delete answer %s", res.Raw)
	}
	if out[0]["success"] != true || out[1]["success"] != false || out[1]["statusCode"] != 404.0 {
		t.Errorf("delete answer %s", res.Raw)
	}
	// DELETE of a missing policy is idempotent (deleteOnePackagePolicyHandler ignores 404).
	kb.do("DELETE", "/api/fleet/package_policies/"+id, nil).must(t, 200)
}

func TestPackagePolicies_SharedAcrossAgentPolicies(t *testing.T) {
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	newAgentPolicy(t, kb, "p2")
	item := kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1", "p2")).must(t, 200).item()
	for _, p := range []string{"p1", "p2"} {
		full := kb.do("GET", "/api/fleet/agent_policies/"+p, nil).must(t, 200).item()
		pps, _ := full["package_policies"].([]any)
		if len(pps) != 1 || pps[0].(map[string]any)["id"] != item["id"] {
			t.Errorf("agent policy %s package_policies = %v", p, pps)
		}
	}
	list := kb.do("GET", "/api/fleet/package_policies?kuery=ingest-package-policies.policy_ids:p2", nil).must(t, 200)
	if list.Body["total"] != 1.0 {
		t.Errorf("kuery total = %v", list.Body["total"])
	}
}

func TestAgentPolicies_MonitoringEnabledInstallsElasticAgent(t *testing.T) {
	// FLEET/server/services/agent_policy_create.ts: monitoring installs elastic_agent.
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "plain", "namespace": "default"}).must(t, 200)
	if s := kb.do("GET", "/api/fleet/epm/packages/elastic_agent", nil).must(t, 200).item()["status"]; s == "installed" {
		t.Fatal("elastic_agent installed without monitoring")
	}
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "mon", "namespace": "default", "monitoring_enabled": []any{"logs", "metrics"}}).must(t, 200)
	if s := kb.do("GET", "/api/fleet/epm/packages/elastic_agent", nil).must(t, 200).item()["status"]; s != "installed" {
		t.Errorf("elastic_agent status %v, want installed", s)
	}
}

func TestPackagePolicies_ListFollowsAgentPolicyDeletion(t *testing.T) {
	// Deleting an agent policy unassigns its package policies in place
	// (policies.go); the cached list item must not show the old policy_ids.
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	newAgentPolicy(t, kb, "p2")
	kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1", "p2")).must(t, 200)
	kb.do("GET", "/api/fleet/package_policies", nil).must(t, 200) // fills the cache
	kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "p2"}).must(t, 200)
	items := kb.do("GET", "/api/fleet/package_policies", nil).must(t, 200).items()
	if got, _ := json.Marshal(items[0].(map[string]any)["policy_ids"]); string(got) != `["p1"]` {
		t.Errorf("policy_ids after deleting p2 = %s", got)
	}
}

func TestPackagePolicies_FullFormatRoundTrip(t *testing.T) {
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	item := kb.do("POST", "/api/fleet/package_policies", map[string]any{
		"name": "sys", "namespace": "default", "policy_ids": []any{"p1"},
		"package": map[string]any{"name": "system", "version": "2.0.0"},
		"inputs": []any{map[string]any{"type": "system/metrics", "policy_template": "system", "enabled": true, "streams": []any{
			map[string]any{"enabled": true, "data_stream": map[string]any{"type": "metrics", "dataset": "system.cpu"},
				"vars": map[string]any{"period": map[string]any{"type": "text", "value": "30s"}, "cpu.metrics": map[string]any{"type": "text", "value": []any{"percentages"}}}},
		}}},
	}).must(t, 200).item()
	simple := kb.do("GET", "/api/fleet/package_policies/"+item["id"].(string)+"?format=simplified", nil).must(t, 200).item()
	if got := getPathT(simple, "inputs", "system-system/metrics", "streams", "system.cpu", "vars", "period"); got != "30s" {
		t.Errorf("simplified period = %v (%v)", got, simple["inputs"])
	}
	// A full-format stream missing a required var is refused.
	kb.do("POST", "/api/fleet/package_policies", map[string]any{
		"name": "sys2", "policy_ids": []any{"p1"}, "package": map[string]any{"name": "system", "version": "2.0.0"},
		"inputs": []any{map[string]any{"type": "system/metrics", "policy_template": "system", "enabled": true, "streams": []any{
			map[string]any{"enabled": true, "data_stream": map[string]any{"type": "metrics", "dataset": "system.memory"}, "vars": map[string]any{}},
		}}},
	}).wantError(t, 400, `Package policy is invalid: inputs.system/metrics.streams.system.memory.vars.period: ["Period is required"]`)
}

func TestPackagePolicies_FleetServerNeedsElasticsearchDataOutput(t *testing.T) {
	// getAllowedOutputTypesForAgentPolicy (FLEET/common/services/output_helpers.ts):
	// an agent policy holding fleet_server may only use elasticsearch.
	_, kb := startMain(t)
	kb.do("POST", "/api/fleet/outputs", map[string]any{"id": "ls", "name": "ls", "type": "logstash", "hosts": []any{"ls.example:5044"}}).must(t, 200)
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p1", "name": "P1", "namespace": "default", "data_output_id": "ls"}).must(t, 200)
	resp := kb.do("POST", "/api/fleet/package_policies", map[string]any{
		"name": "fs", "policy_ids": []any{"p1"}, "package": map[string]any{"name": "fleet_server", "version": "1.6.0"},
	})
	resp.wantError(t, 400, `Output of type "logstash" is not usable with policy "P1".`)
	if n := len(kb.do("GET", "/api/fleet/package_policies", nil).items()); n != 0 {
		t.Errorf("refused policy was kept: %d", n)
	}
}

func TestPackagePolicies_UpdateFormats(t *testing.T) {
	// updatePackagePolicyHandler (FLEET/server/routes/package_policy/handlers.ts).
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	id := kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1")).must(t, 200).item()["id"].(string)
	// A simplified update needs the package.
	b := nginxSimplified("nginx-1", "p1")
	delete(b, "package")
	kb.do("PUT", "/api/fleet/package_policies/"+id, b).wantError(t, 400, "Package is required")
	// A body without inputs is a complete request: the inputs stay.
	item := kb.do("PUT", "/api/fleet/package_policies/"+id+"?format=simplified", map[string]any{"name": "nginx-renamed"}).must(t, 200).item()
	if getPathT(item, "inputs", "nginx-logfile", "streams", "nginx.access", "vars", "paths").([]any)[0] != "/srv/log/access.log" || item["name"] != "nginx-renamed" {
		t.Errorf("complete update lost the inputs or the name: %v", item)
	}
	// A simplified update rebuilds from the defaults: the paths go back.
	b = nginxSimplified("nginx-renamed", "p1")
	b["inputs"] = map[string]any{"nginx-logfile": map[string]any{}}
	item = kb.do("PUT", "/api/fleet/package_policies/"+id+"?format=simplified", b).must(t, 200).item()
	if got := getPathT(item, "inputs", "nginx-logfile", "streams", "nginx.access", "vars", "paths").([]any)[0]; got != "/var/log/nginx/access.log*" {
		t.Errorf("simplified update kept %v, want the manifest default", got)
	}
}

func TestPackagePolicies_EndpointIntegration(t *testing.T) {
	// The endpoint package (Elastic Defend) has one policy template and one
	// input; the plan warnings of issue 12 look for it on agent policies.
	_, kb := startMain(t)
	newAgentPolicy(t, kb, "p1")
	item := kb.do("POST", "/api/fleet/package_policies?format=simplified", map[string]any{
		"name": "defend", "policy_ids": []any{"p1"}, "package": map[string]any{"name": "endpoint", "version": "9.0.0"},
	}).must(t, 200).item()
	if getPathT(item, "inputs", "endpoint-endpoint", "enabled") != true {
		t.Errorf("inputs = %v", item["inputs"])
	}
}
