package fleetsim

import "testing"

// agent_policy.ts's simplified-format tests, whose fixture is a package
// policy (createAgentPolicyWithPackagePolicy). Adapted: the Kibana test
// registry's single_input_no_streams 0.1.0 (input single_input, no streams)
// is fleetsim's endpoint 9.0.0 (input endpoint, no data streams).

func agentPolicyWithPP(t *testing.T) (*client, string) {
	t.Helper()
	_, kb := startMain(t)
	id := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy 1", "namespace": "default"}).must(t, 200).item()["id"].(string)
	kb.do("POST", "/api/fleet/package_policies", map[string]any{"name": "filetest-1", "description": "", "namespace": "default", "policy_id": id, "enabled": true,
		"inputs":  []any{map[string]any{"enabled": true, "streams": []any{}, "type": "endpoint"}},
		"package": map[string]any{"name": "endpoint", "version": "9.0.0"}}).must(t, 200)
	return kb, id
}

var singleInputSimplified = map[string]any{"endpoint": map[string]any{"enabled": true, "streams": map[string]any{}}}

func firstPackagePolicyInputs(t *testing.T, policy any) any {
	t.Helper()
	p, _ := policy.(map[string]any)
	pps, _ := p["package_policies"].([]any)
	if len(pps) == 0 {
		t.Fatalf("no package_policies in %v", p)
	}
	return pps[0].(map[string]any)["inputs"]
}

func TestConformance_AgentPolicy_Simplified(t *testing.T) {
	kibanaTest(t, agentPolicyTS, "GET /api/fleet/agent_policies", "should get list agent policies simplified format", func(t *testing.T) {
		kb, _ := agentPolicyWithPP(t)
		items := kb.do("GET", "/api/fleet/agent_policies?full=true&format=simplified", nil).wantStatus(t, 200).items()
		if len(items) == 0 {
			t.Fatal("no items")
		}
		wantEql(t, "items[0].package_policies[0].inputs", singleInputSimplified, firstPackagePolicyInputs(t, items[0]))
	})
	kibanaTest(t, agentPolicyTS, "GET /api/fleet/agent_policies", "should get one agent policy simplified format", func(t *testing.T) {
		kb, id := agentPolicyWithPP(t)
		item := kb.do("GET", "/api/fleet/agent_policies/"+id+"?format=simplified", nil).wantStatus(t, 200).item()
		wantEql(t, "item.package_policies[0].inputs", singleInputSimplified, firstPackagePolicyInputs(t, item))
	})
	kibanaTest(t, agentPolicyTS, "PUT /api/fleet/agent_policies/{agentPolicyId}", "should update with simplified format", func(t *testing.T) {
		kb, id := agentPolicyWithPP(t)
		item := kb.do("PUT", "/api/fleet/agent_policies/"+id+"?format=simplified", map[string]any{"name": "Test policy updated", "namespace": "default"}).wantStatus(t, 200).item()
		wantEql(t, "item.package_policies[0].inputs", singleInputSimplified, firstPackagePolicyInputs(t, item))
	})
	kibanaTest(t, agentPolicyTS, "POST /api/fleet/agent_policies/_bulk_get", "should bulk get with simplified format", func(t *testing.T) {
		kb, id := agentPolicyWithPP(t)
		items := kb.do("POST", "/api/fleet/agent_policies/_bulk_get?format=simplified", map[string]any{"ids": []any{id}, "full": true}).wantStatus(t, 200).items()
		if len(items) == 0 {
			t.Fatal("no items")
		}
		wantEql(t, "items[0].package_policies[0].inputs", singleInputSimplified, firstPackagePolicyInputs(t, items[0]))
	})
}
