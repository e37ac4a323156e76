package fleetsim

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

const agentPolicyTS = "apis/agent_policy/agent_policy.ts"

func TestConformance_AgentPolicy_Get(t *testing.T) {
	const d = "GET /api/fleet/agent_policies"
	kibanaTest(t, agentPolicyTS, d, "should get list agent policies", func(t *testing.T) {
		_, kb := startMain(t)
		kb.do("GET", "/api/fleet/agent_policies", nil).wantStatus(t, 200)
	})
	kibanaTest(t, agentPolicyTS, d, "should return 200 even if the passed kuery does not have prefix ingest-agent-policies", func(t *testing.T) {
		_, kb := startMain(t)
		kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "TEST-1", "namespace": "default"}).wantStatus(t, 200)
		kb.do("GET", "/api/fleet/agent_policies?kuery=name:TEST-1", nil).wantStatus(t, 200)
	})
	kibanaTest(t, agentPolicyTS, d, "with enableStrictKQLValidation should return 400 if passed kuery is not correct", func(t *testing.T) {
		_, kb := startMain(t)
		kb.do("GET", "/api/fleet/agent_policies?kuery=ingest-agent-policies.non_existent_parameter:test", nil).wantStatus(t, 400)
	})
	kibanaTest(t, agentPolicyTS, d, "with enableStrictKQLValidation should return 400 if passed kuery is invalid", func(t *testing.T) {
		_, kb := startMain(t)
		kb.do("GET", "/api/fleet/agent_policies?kuery='test%3A'", nil).wantStatus(t, 400)
	})
}

func TestConformance_AgentPolicy_Post(t *testing.T) {
	const d = "POST /api/fleet/agent_policies"
	create := func(t *testing.T, kb *client, body map[string]any, status int) map[string]any {
		t.Helper()
		return kb.do("POST", "/api/fleet/agent_policies", body).wantStatus(t, status).item()
	}
	kibanaTest(t, agentPolicyTS, d, "should work with valid minimum required values", func(t *testing.T) {
		_, kb := startMain(t)
		id := create(t, kb, map[string]any{"name": "TEST", "namespace": "default"}, 200)["id"].(string)
		item := kb.do("GET", "/api/fleet/agent_policies/"+id, nil).item()
		wantEql(t, "is_managed", false, item["is_managed"])
		wantEql(t, "inactivity_timeout", 1209600.0, item["inactivity_timeout"])
		wantEql(t, "status", "active", item["status"])
	})
	kibanaTest(t, agentPolicyTS, d, "sets given is_managed value", func(t *testing.T) {
		_, kb := startMain(t)
		id := create(t, kb, map[string]any{"name": "TEST2", "namespace": "default", "is_managed": true}, 200)["id"].(string)
		wantEql(t, "is_managed", true, kb.do("GET", "/api/fleet/agent_policies/"+id, nil).item()["is_managed"])
		id2 := create(t, kb, map[string]any{"name": "TEST3", "namespace": "default", "is_managed": false}, 200)["id"].(string)
		wantEql(t, "is_managed", false, kb.do("GET", "/api/fleet/agent_policies/"+id2, nil).item()["is_managed"])
	})
	kibanaTest(t, agentPolicyTS, d, "does not allow arbitrary config in agent_features value", func(t *testing.T) {
		_, kb := startMain(t)
		create(t, kb, map[string]any{"name": "test-agent-features", "namespace": "default",
			"agent_features": []any{map[string]any{"name": "fqdn", "enabled": true, "config": "I'm not allowed yet"}}}, 400)
	})
	kibanaTest(t, agentPolicyTS, d, "sets given agent_features value", func(t *testing.T) {
		// The .fleet-policies document assertion is skipped: fleetsim does not
		// write .fleet-policies (docs/fleetsim-conformance.md).
		_, kb := startMain(t)
		id := create(t, kb, map[string]any{"name": "test-agent-features", "namespace": "default",
			"agent_features": []any{map[string]any{"name": "fqdn", "enabled": true}}}, 200)["id"].(string)
		wantEql(t, "agent_features", []any{map[string]any{"name": "fqdn", "enabled": true}}, kb.do("GET", "/api/fleet/agent_policies/"+id, nil).item()["agent_features"])
	})
	kibanaTest(t, agentPolicyTS, d, "should return a 400 with an empty namespace", func(t *testing.T) {
		_, kb := startMain(t)
		create(t, kb, map[string]any{"name": "TEST", "namespace": ""}, 400)
	})
	kibanaTest(t, agentPolicyTS, d, "should return a 400 with an empty name", func(t *testing.T) {
		_, kb := startMain(t)
		create(t, kb, map[string]any{"name": "  ", "namespace": "default"}, 400)
	})
	kibanaTest(t, agentPolicyTS, d, "should return a 400 with an invalid namespace", func(t *testing.T) {
		_, kb := startMain(t)
		create(t, kb, map[string]any{"name": "TEST", "namespace": "InvalidNamespace"}, 400)
	})
	kibanaTest(t, agentPolicyTS, d, "should return a 409 if policy already exists with name given", func(t *testing.T) {
		_, kb := startMain(t)
		create(t, kb, map[string]any{"name": "Name 1", "namespace": "default"}, 200)
		create(t, kb, map[string]any{"name": "Name 1", "namespace": "default"}, 409)
	})
	kibanaTest(t, agentPolicyTS, d, "should create policy with provided id and return 409 the second time", func(t *testing.T) {
		_, kb := startMain(t)
		wantEql(t, "id", "test-id", create(t, kb, map[string]any{"id": "test-id", "name": "TEST ID", "namespace": "default"}, 200)["id"])
		create(t, kb, map[string]any{"id": "test-id", "name": "TEST 2 ID", "namespace": "default"}, 409)
	})
}

func TestConformance_AgentPolicy_PostOptions(t *testing.T) {
	const d = "POST /api/fleet/agent_policies"
	kibanaTest(t, agentPolicyTS, d, "should create policy with global data tags given valid tags", func(t *testing.T) {
		// The /full policy assertions are skipped: fleetsim does not serve GET .../{id}/full.
		_, kb := startMain(t)
		tags := []any{map[string]any{"name": "testName", "value": "testValue"}, map[string]any{"name": "testName2", "value": 123.0}}
		id := kb.do("POST", "/api/fleet/agent_policies?sys_monitoring=true", map[string]any{"name": "global data tag test", "namespace": "default", "global_data_tags": tags}).wantStatus(t, 200).item()["id"].(string)
		wantEql(t, "global_data_tags", tags, kb.do("GET", "/api/fleet/agent_policies/"+id, nil).wantStatus(t, 200).item()["global_data_tags"])
	})
	kibanaTest(t, agentPolicyTS, d, "should create policy with advanced monitoring options", func(t *testing.T) {
		_, kb := startMain(t)
		httpOpts := map[string]any{"host": "localhost", "port": 6791.0, "enabled": true}
		diag := map[string]any{"limit": map[string]any{"interval": "1m", "burst": 1.0}, "uploader": map[string]any{"max_retries": 10.0, "init_dur": "1s", "max_dur": "10m"}}
		id := kb.do("POST", "/api/fleet/agent_policies?sys_monitoring=true", map[string]any{"name": "advanced monitoring test", "namespace": "default",
			"monitoring_pprof_enabled": true, "monitoring_http": httpOpts, "monitoring_diagnostics": diag}).wantStatus(t, 200).item()["id"].(string)
		item := kb.do("GET", "/api/fleet/agent_policies/"+id, nil).wantStatus(t, 200).item()
		wantEql(t, "monitoring_pprof_enabled", true, item["monitoring_pprof_enabled"])
		wantEql(t, "monitoring_http", httpOpts, item["monitoring_http"])
		wantEql(t, "monitoring_diagnostics", diag, item["monitoring_diagnostics"])
	})
	kibanaTest(t, agentPolicyTS, d, "should return 400 if setting data output to non-local ES for agentless policy", func(t *testing.T) {
		_, kb := startMain(t)
		out := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "logstash-output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}).wantStatus(t, 200).item()["id"]
		kb.do("POST", "/api/fleet/agent_policies?sys_monitoring=false", map[string]any{"name": "test-agentless-policy", "namespace": "default", "supports_agentless": true, "data_output_id": out}).
			wantStatus(t, 400).wantMessage(t, `Output of type "logstash" is not usable with policy "test-agentless-policy".`)
	})
}

func TestConformance_AgentPolicy_Put(t *testing.T) {
	const d = "PUT /api/fleet/agent_policies/{agentPolicyId}"
	updated := func(name string) map[string]any {
		return map[string]any{"status": "active", "name": name, "description": "Updated description", "namespace": "default", "is_managed": false,
			"revision": 2.0, "updated_by": "elastic", "inactivity_timeout": 1209600.0, "package_policies": []any{}, "is_protected": false,
			"space_ids": []any{"default"}}
	}
	strip := func(item map[string]any) map[string]any {
		for _, k := range []string{"id", "updated_at", "version", "schema_version"} {
			delete(item, k)
		}
		return item
	}
	kibanaTest(t, agentPolicyTS, d, "should work with valid values", func(t *testing.T) {
		// schema_version is compared for presence only (FLEET_AGENT_POLICIES_SCHEMA_VERSION is a Kibana constant).
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Initial name", "description": "Initial description", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		item := kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Updated name", "description": "Updated description", "namespace": "default", "is_protected": false}).wantStatus(t, 200).item()
		if _, ok := item["schema_version"]; !ok {
			t.Errorf("no schema_version in %v", item)
		}
		wantEql(t, "item", updated("Updated name"), strip(item))
	})
	kibanaTest(t, agentPolicyTS, d, "should support empty space_ids", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Initial name 2", "space_ids": []any{}, "description": "Initial description", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		item := kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Updated name 2", "space_ids": []any{}, "description": "Updated description", "namespace": "default", "is_protected": false}).wantStatus(t, 200).item()
		wantEql(t, "item", updated("Updated name 2"), strip(item))
	})
	kibanaTest(t, agentPolicyTS, d, "should return a 409 if policy already exists with name given", func(t *testing.T) {
		_, kb := startMain(t)
		body := map[string]any{"name": "Initial name", "description": "Initial description", "namespace": "default"}
		kb.do("POST", "/api/fleet/agent_policies", body).wantStatus(t, 200)
		r := kb.do("POST", "/api/fleet/agent_policies", body).wantStatus(t, 409)
		if !regexp.MustCompile(`already exists?`).MatchString(r.msg()) {
			t.Errorf("message %q does not match /already exists?/", r.msg())
		}
		body["namespace"] = "different"
		kb.do("POST", "/api/fleet/agent_policies", body).wantStatus(t, 409)
	})
	kibanaTest(t, agentPolicyTS, d, "sets given is_managed value", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Initial name 2", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "TEST2", "namespace": "default", "is_managed": true}).wantStatus(t, 200)
		wantEql(t, "is_managed", true, kb.do("GET", "/api/fleet/agent_policies/"+id, nil).item()["is_managed"])
		kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "TEST2", "namespace": "default", "is_managed": false, "force": true}).wantStatus(t, 200)
		wantEql(t, "is_managed", false, kb.do("GET", "/api/fleet/agent_policies/"+id, nil).item()["is_managed"])
	})
	kibanaTest(t, agentPolicyTS, d, "should return a 400 if trying to update a managed policy", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Managed policy 1", "description": "Initial description", "namespace": "default", "is_managed": true}).wantStatus(t, 200).item()["id"].(string)
		kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Updated name 1", "description": "Initial description", "namespace": "default"}).
			wantStatus(t, 400).wantMessage(t, "Cannot update name in Fleet because the agent policy is managed by an external orchestration solution, such as Elastic Cloud, Kubernetes, etc. Please make changes using your orchestration solution.")
	})
}

func TestConformance_AgentPolicy_PutFields(t *testing.T) {
	const d = "PUT /api/fleet/agent_policies/{agentPolicyId}"
	base := func(name, description string) map[string]any {
		return map[string]any{"status": "active", "name": name, "description": description, "namespace": "default", "is_managed": false,
			"revision": 2.0, "updated_by": "elastic", "inactivity_timeout": 1209600.0, "package_policies": []any{}, "is_protected": false,
			"space_ids": []any{"default"}}
	}
	strip := func(item map[string]any) map[string]any {
		for _, k := range []string{"id", "updated_at", "version", "schema_version"} {
			delete(item, k)
		}
		return item
	}
	installed := func(t *testing.T, kb *client) []string {
		var names []string
		for _, it := range kb.do("GET", "/api/fleet/epm/packages", nil).wantStatus(t, 200).items() {
			if m := it.(map[string]any); m["status"] == "installed" {
				names = append(names, m["name"].(string))
			}
		}
		return names
	}
	kibanaTest(t, agentPolicyTS, d, "should return a 200 if updating monitoring_enabled on a policy", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test_policy", "description": "Initial description", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		kb.do("DELETE", "/api/fleet/epm/packages/elastic_agent/1.3.3", nil)
		if slices.Contains(installed(t, kb), "elastic_agent") {
			t.Fatalf("elastic_agent installed before the update")
		}
		item := kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Test_policy_with_monitoring", "description": "Updated description", "namespace": "default", "monitoring_enabled": []any{"logs", "metrics"}, "force": true}).wantStatus(t, 200).item()
		want := base("Test_policy_with_monitoring", "Updated description")
		want["monitoring_enabled"] = []any{"logs", "metrics"}
		wantEql(t, "item", want, strip(item))
		if !slices.Contains(installed(t, kb), "elastic_agent") {
			t.Errorf("elastic_agent not installed after enabling monitoring: %v", installed(t, kb))
		}
	})
	kibanaTest(t, agentPolicyTS, d, "should allow to set overrides", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Override Test 1", "description": "Initial description", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		overrides := map[string]any{"agent": map[string]any{"logging": map[string]any{"level": "debug"}}}
		item := kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Override Test 1", "description": "Initial description", "namespace": "default", "overrides": overrides}).wantStatus(t, 200).item()
		want := base("Override Test 1", "Initial description")
		want["overrides"] = overrides
		wantEql(t, "item", want, strip(item))
	})
	kibanaTest(t, agentPolicyTS, d, "should not allow to set inputs inside overrides", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Override Test 2", "description": "Initial description", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Override Test 3", "description": "Updated description", "namespace": "default", "overrides": map[string]any{"inputs": []any{}}}).wantStatus(t, 400)
	})
	kibanaTest(t, agentPolicyTS, d, "should overwrite global data tags if provided with valid input", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies?sys_monitoring=true", map[string]any{"name": "TEST", "namespace": "default",
			"global_data_tags": []any{map[string]any{"name": "testName", "value": "testValue"}, map[string]any{"name": "testName2", "value": 123}}}).wantStatus(t, 200).item()["id"].(string)
		item := kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "TEST", "namespace": "default", "global_data_tags": []any{map[string]any{"name": "newTag", "value": "newValue"}}}).wantStatus(t, 200).item()
		wantEql(t, "global_data_tags", []any{map[string]any{"name": "newTag", "value": "newValue"}}, item["global_data_tags"])
	})
	kibanaTest(t, agentPolicyTS, d, "should allow to set required_versions", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Override Test 4", "description": "Initial description", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		rv := []any{map[string]any{"version": "9.0.0", "percentage": 10.0}}
		item := kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Override Test 4", "description": "Initial description", "namespace": "default", "required_versions": rv}).wantStatus(t, 200).item()
		want := base("Override Test 4", "Initial description")
		want["required_versions"] = rv
		wantEql(t, "item", want, strip(item))
	})
	kibanaTest(t, agentPolicyTS, d, "should not allow to set invalid required_versions", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Override Test 5", "description": "Initial description", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Override Test 6", "description": "Updated description", "namespace": "default",
			"required_versions": []any{map[string]any{"version": "9.0.0", "percentage": 50}, map[string]any{"version": "9.1.0", "percentage": 60}}}).wantStatus(t, 400)
	})
	kibanaTest(t, agentPolicyTS, d, "should return 400 if updating data output to non-local ES for agentless policy", func(t *testing.T) {
		_, kb := startMain(t)
		out := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "logstash-output", "type": "logstash", "hosts": []any{"test.fr:443"}, "ssl": logstashSSL}).wantStatus(t, 200).item()["id"]
		id := kb.do("POST", "/api/fleet/agent_policies?sys_monitoring=false", map[string]any{"name": "test-agentless-policy", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "test-agentless-policy", "namespace": "default", "supports_agentless": true, "data_output_id": out}).
			wantStatus(t, 400).wantMessage(t, `Output of type "logstash" is not usable with policy "test-agentless-policy".`)
	})
}

func TestConformance_AgentPolicy_Delete(t *testing.T) {
	const d = "POST /api/fleet/agent_policies/delete"
	kibanaTest(t, agentPolicyTS, d, "should prevent hosted policies being deleted / should allow regular policies being deleted", func(t *testing.T) {
		// Two its sharing hostedPolicy, ported in their order.
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Hosted policy", "namespace": "default", "is_managed": true}).wantStatus(t, 200).item()["id"].(string)
		r := kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": id}).wantStatus(t, 400)
		if !strings.Contains(r.msg(), "Cannot delete hosted agent policy") {
			t.Errorf("message %q", r.msg())
		}
		kb.do("PUT", "/api/fleet/agent_policies/"+id, map[string]any{"name": "Regular policy", "namespace": "default", "is_managed": false, "force": true}).wantStatus(t, 200)
		wantEql(t, "body", map[string]any{"id": id, "name": "Regular policy"}, kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": id}).Body)
	})
	kibanaTest(t, agentPolicyTS, d, "should allow hosted policy delete with force flag", func(t *testing.T) {
		_, kb := startMain(t)
		id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Hosted policy", "namespace": "default", "is_managed": true}).wantStatus(t, 200).item()["id"].(string)
		kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": id, "force": true}).wantStatus(t, 200)
		kb.do("GET", "/api/fleet/agent_policies/"+id, nil).wantStatus(t, 404)
	})
	kibanaTest(t, agentPolicyTS, d+" › Errors when trying to delete", "should prevent policies having agents from being deleted", func(t *testing.T) {
		// Agents come from the seed (fleetsim has no agent routes; generateAgent writes .fleet-agents).
		s, kb := startMain(t)
		seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "pa", Name: "Policy with agents", Namespace: "default", Agents: 1}}})
		r := kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "pa"}).wantStatus(t, 400)
		if !strings.Contains(r.msg(), "Cannot delete an agent policy that is assigned to any active or inactive agents") {
			t.Errorf("message %q", r.msg())
		}
	})
}

func TestConformance_AgentPolicy_BulkGetAndFleetServer(t *testing.T) {
	const d = "POST /api/fleet/agent_policies/_bulk_get"
	setup := func(t *testing.T) (*client, string) {
		_, kb := startMain(t)
		v := kb.do("GET", "/api/fleet/epm/packages/system", nil).wantStatus(t, 200).item()["version"].(string)
		kb.do("POST", "/api/fleet/epm/packages/system/"+v, forceInstall).wantStatus(t, 200)
		id := kb.do("POST", "/api/fleet/agent_policies?sys_monitoring=true", map[string]any{"name": "Bulk GET test policy", "namespace": "default"}).wantStatus(t, 200).item()["id"].(string)
		return kb, id
	}
	kibanaTest(t, agentPolicyTS, d, "should allow to get valid ids", func(t *testing.T) {
		kb, id := setup(t)
		wantEql(t, "items.length", 1, len(kb.do("POST", "/api/fleet/agent_policies/_bulk_get", map[string]any{"ids": []any{id}}).wantStatus(t, 200).items()))
	})
	kibanaTest(t, agentPolicyTS, d, "should populate package_policies if called with ?full=true", func(t *testing.T) {
		// The snapshot comparison is skipped (Kibana's __snapshots__ file); the explicit expectations are ported.
		kb, id := setup(t)
		items := kb.do("POST", "/api/fleet/agent_policies/_bulk_get", map[string]any{"ids": []any{id}, "full": true}).wantStatus(t, 200).items()
		wantEql(t, "items.length", 1, len(items))
		pps, _ := items[0].(map[string]any)["package_policies"].([]any)
		wantEql(t, "package_policies.length", 1, len(pps))
		if len(pps) == 1 {
			wantEql(t, "package.name", "system", getPathT(pps[0].(map[string]any), "package", "name"))
		}
	})
	kibanaTest(t, agentPolicyTS, d, "should return a 404 with invalid ids", func(t *testing.T) {
		kb, id := setup(t)
		kb.do("POST", "/api/fleet/agent_policies/_bulk_get", map[string]any{"ids": []any{id, "i-am-not-a-valid-policy"}}).wantStatus(t, 404)
	})
	kibanaTest(t, agentPolicyTS, d, "should allow to get valid ids if ids is a mixed of valid and invalid ids and ignoreMissing is provided", func(t *testing.T) {
		kb, id := setup(t)
		wantEql(t, "items.length", 1, len(kb.do("POST", "/api/fleet/agent_policies/_bulk_get", map[string]any{"ids": []any{id, "i-am-not-a-valid-policy"}, "ignoreMissing": true}).wantStatus(t, 200).items()))
	})

	const fs = "fleet server policies validate output"
	fsSetup := func(t *testing.T) (*client, string, string) {
		_, kb := startMain(t)
		es := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Elastic output", "type": "elasticsearch", "hosts": []any{"http://localhost"}}).wantStatus(t, 200).item()["id"].(string)
		ls := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "Default logstash", "type": "logstash", "hosts": []any{"logstash"},
			"ssl": map[string]any{"certificate": "CERTIFICATE", "key": "KEY", "certificate_authorities": []any{}}, "is_default": true, "is_default_monitoring": true}).wantStatus(t, 200).item()["id"].(string)
		return kb, es, ls
	}
	kibanaTest(t, agentPolicyTS, fs, "should not allow to create a fleet server policies if default output is not an ES output", func(t *testing.T) {
		kb, _, _ := fsSetup(t)
		kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "fleet-server-1", "name": "Fleet Server policy 1", "namespace": "default", "has_fleet_server": true}).wantStatus(t, 400)
		kb.do("GET", "/api/fleet/agent_policies/fleet-server-1", nil).wantStatus(t, 404)
	})
	kibanaTest(t, agentPolicyTS, fs, "should not allow to create a fleet server policies if provided output is not an ES output", func(t *testing.T) {
		kb, _, ls := fsSetup(t)
		r := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "fleet-server-2", "name": "Fleet Server policy 2", "namespace": "default", "has_fleet_server": true, "data_output_id": ls}).wantStatus(t, 400)
		if !regexp.MustCompile(`Output of type "logstash" is not usable with policy`).MatchString(r.msg()) {
			t.Errorf("message %q", r.msg())
		}
		kb.do("GET", "/api/fleet/agent_policies/fleet-server-2", nil).wantStatus(t, 404)
	})
	kibanaTest(t, agentPolicyTS, fs, "should allow to create a fleet server policies if provided output is an ES output", func(t *testing.T) {
		kb, es, _ := fsSetup(t)
		kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "fleet-server-3", "name": "Fleet Server policy 3", "namespace": "default", "has_fleet_server": true, "data_output_id": es}).wantStatus(t, 200)
	})
}
