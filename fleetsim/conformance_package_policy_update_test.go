package fleetsim

import "testing"

// apis/package_policy/update.ts, with the fixtures adapted as in
// conformance_package_policy_create_test.go (filetest → nginx 2.1.0 with
// `inputs: []`, with_required_variables → nginx-logfile/nginx.access,
// endpoint 8.6.1 → 9.0.0, and the `secrets` 1.1.0 package → nginx's
// httpjson input, whose password var is a secret).

const ppUpdateTS = "apis/package_policy/update.ts"

type ppUpdateFixtures struct {
	kb                          *client
	agentPolicyID, managedID    string
	pp1, pp2, pp3, endpointPPID string
}

// ppUpdateSetup is update.ts's before() (without the input-only package
// policy: input packages are not in fleetsim's registry).
func ppUpdateSetup(t *testing.T) ppUpdateFixtures {
	t.Helper()
	_, kb := startMain(t, ClusterConfig{Name: "main", SecretStorage: "on"}) // enableSecrets
	f := ppUpdateFixtures{kb: kb}
	f.agentPolicyID = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy", "namespace": "default"}).must(t, 200).item()["id"].(string)
	f.managedID = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test hosted agent policy", "namespace": "default", "is_managed": true}).must(t, 200).item()["id"].(string)
	f.pp1 = kb.do("POST", "/api/fleet/package_policies", filetestBody("filetest-1", f.agentPolicyID, nil)).must(t, 200).item()["id"].(string)
	f.pp2 = kb.do("POST", "/api/fleet/package_policies", filetestBody("filetest-2", f.agentPolicyID, nil)).must(t, 200).item()["id"].(string)
	f.pp3 = kb.do("POST", "/api/fleet/package_policies", simplifiedRequiredVars("update-package-policy-with_required_variables-1", f.agentPolicyID)).must(t, 200).item()["id"].(string)
	f.endpointPPID = kb.do("POST", "/api/fleet/package_policies", filetestBody("endpoint-1", f.agentPolicyID, map[string]any{"force": true,
		"inputs":  []any{map[string]any{"enabled": true, "streams": []any{}, "type": "endpoint"}},
		"package": map[string]any{"name": "endpoint", "title": "Elastic Defend", "version": "9.0.0"}})).must(t, 200).item()["id"].(string)
	return f
}

func updatedFiletest(policyID string, extra map[string]any) map[string]any {
	b := filetestBody("filetest-1", policyID, map[string]any{"namespace": "updated_namespace"})
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func TestConformance_PackagePolicy_Update(t *testing.T) {
	const d = "Package Policy - update"
	const pp = "/api/fleet/package_policies/"
	kibanaTest(t, ppUpdateTS, d, "should work with multiple policy ids", func(t *testing.T) {
		f := ppUpdateSetup(t)
		b := updatedFiletest("", map[string]any{"policy_ids": []any{f.agentPolicyID, f.managedID}})
		delete(b, "policy_id")
		wantEql(t, "policy_ids", []any{f.agentPolicyID, f.managedID}, f.kb.do("PUT", pp+f.pp1, b).item()["policy_ids"])
	})
	kibanaTest(t, ppUpdateTS, d, "should work with no policy ids", func(t *testing.T) {
		f := ppUpdateSetup(t)
		id := f.kb.do("POST", "/api/fleet/package_policies", filetestBody("filetest-to-clear-policy", f.agentPolicyID, map[string]any{"policy_ids": []any{f.agentPolicyID}})).must(t, 200).item()["id"].(string)
		item := f.kb.do("PUT", pp+id, map[string]any{"policy_ids": []any{}}).wantStatus(t, 200).item()
		if v, ok := item["policy_id"]; !ok || v != nil {
			t.Errorf("policy_id = %v (present %v), want null", v, ok)
		}
		wantEql(t, "policy_ids", []any{}, item["policy_ids"])
	})
	kibanaTest(t, ppUpdateTS, d, "should trim whitespace from name on update", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.pp1, updatedFiletest(f.agentPolicyID, map[string]any{"name": "  filetest-1  "}))
		wantEql(t, "name", "filetest-1", f.kb.do("GET", pp+f.pp1, nil).item()["name"])
	})
	kibanaTest(t, ppUpdateTS, d, "should return a 409 if there is another package policy with the same name", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.pp2, updatedFiletest(f.agentPolicyID, nil)).wantStatus(t, 409)
	})
	kibanaTest(t, ppUpdateTS, d, "should return a 409 if there is another package policy with the same name on a different policy", func(t *testing.T) {
		f := ppUpdateSetup(t)
		other := f.kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy 2", "namespace": "default"}).must(t, 200).item()["id"].(string)
		f.kb.do("PUT", pp+f.pp2, updatedFiletest(other, nil)).wantStatus(t, 409)
	})
	kibanaTest(t, ppUpdateTS, d, "should succeed and return formatted inputs when the format=simplified query param is passed", func(t *testing.T) {
		f := ppUpdateSetup(t)
		if isArray(f.kb.do("PUT", pp+f.pp1+"?format=simplified", updatedFiletest(f.agentPolicyID, nil)).wantStatus(t, 200).item()["inputs"]) {
			t.Errorf("inputs is an array")
		}
	})
	kibanaTest(t, ppUpdateTS, d, "should succeed and return arrayed inputs when the format=legacy query param is passed", func(t *testing.T) {
		f := ppUpdateSetup(t)
		if !isArray(f.kb.do("PUT", pp+f.pp1+"?format=legacy", updatedFiletest(f.agentPolicyID, nil)).wantStatus(t, 200).item()["inputs"]) {
			t.Errorf("inputs is not an array")
		}
	})
	kibanaTest(t, ppUpdateTS, d, "should return 400 if an invalid format query param is passed", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.pp1+"?format=foo", updatedFiletest(f.agentPolicyID, nil)).wantStatus(t, 400)
	})
	kibanaTest(t, ppUpdateTS, d, "should return 200 and disable an input that has all disabled streams", func(t *testing.T) {
		f := ppUpdateSetup(t)
		item := f.kb.do("PUT", pp+f.pp1, map[string]any{"enabled": true, "inputs": []any{map[string]any{"enabled": true, "type": "logfile",
			"streams": []any{map[string]any{"enabled": false, "data_stream": map[string]any{"type": "logs", "dataset": "nginx.access"}}}}}}).wantStatus(t, 200).item()
		wantEql(t, "inputs[0].enabled", false, item["inputs"].([]any)[0].(map[string]any)["enabled"])
	})
	kibanaTest(t, ppUpdateTS, d, "should allow to override inputs", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.endpointPPID, map[string]any{"overrides": map[string]any{"inputs": map[string]any{"policy-id": map[string]any{"log_level": "debug"}}}}).wantStatus(t, 200)
	})
	kibanaTest(t, ppUpdateTS, d, "should not allow to override compiled_streams", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.endpointPPID, map[string]any{"overrides": map[string]any{"inputs": map[string]any{"compiled_streams": map[string]any{}}}}).wantStatus(t, 400)
	})
	kibanaTest(t, ppUpdateTS, d, "should not allow to override compiled_inputs", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.endpointPPID, map[string]any{"overrides": map[string]any{"inputs": map[string]any{"compiled_inputs": map[string]any{}}}}).wantStatus(t, 400)
	})
	kibanaTest(t, ppUpdateTS, d, "should not allow to override properties other than inputs", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.endpointPPID, map[string]any{"overrides": map[string]any{"name": "test"}}).wantStatus(t, 400)
	})
	kibanaTest(t, ppUpdateTS, d, "should return 400 if updating output to non-local ES for an agentless integration", func(t *testing.T) {
		f := ppUpdateSetup(t)
		out := f.kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "logstash-output", "type": "logstash", "hosts": []any{"test.fr:443"},
			"ssl": map[string]any{"certificate": "CERTIFICATE", "key": "KEY", "certificate_authorities": []any{"CA1", "CA2"}}}).wantStatus(t, 200).item()["id"]
		b := filetestBody("agentless-integration-policy", "", map[string]any{"policy_ids": []any{}, "supports_agentless": true})
		delete(b, "policy_id")
		id := f.kb.do("POST", "/api/fleet/package_policies", b).wantStatus(t, 200).item()["id"].(string)
		f.kb.do("PUT", pp+id, map[string]any{"output_id": out}).wantStatus(t, 400).wantMessage(t, `Output type "logstash" is not usable with package "nginx"`)
	})
}

func TestConformance_PackagePolicy_UpdateSimplified(t *testing.T) {
	const d = "Simplified package policy"
	const pp = "/api/fleet/package_policies/"
	kibanaTest(t, ppUpdateTS, d, "should work with valid values", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.pp3, simplifiedRequiredVars("update-simplified-package-policy-with_required_variables-1", f.agentPolicyID)).wantStatus(t, 200)
	})
	kibanaTest(t, ppUpdateTS, d, "should work with secret values", func(t *testing.T) {
		f := ppUpdateSetup(t)
		created := f.kb.do("POST", "/api/fleet/package_policies?format=simplified", map[string]any{"name": "secrets-1", "description": "", "namespace": "default", "policy_id": f.agentPolicyID,
			"inputs": map[string]any{"nginx-httpjson": map[string]any{"enabled": true, "vars": map[string]any{"password": "input_var_secret_value", "username": "user"}}},
			"force":  true, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}).must(t, 200).item()
		body := map[string]any{"name": "update-simplified-package-policy-with_required_variables-2", "description": "", "namespace": "default", "policy_id": f.agentPolicyID,
			"inputs": created["inputs"], "package": map[string]any{"name": "nginx", "version": "2.1.0"}}
		if v, ok := created["vars"]; ok {
			body["vars"] = v
		}
		f.kb.do("PUT", pp+created["id"].(string), body).wantStatus(t, 200)
	})
	kibanaTest(t, ppUpdateTS, d, "should return a 400 with invalid inputs", func(t *testing.T) {
		f := ppUpdateSetup(t)
		b := simplifiedRequiredVars("update-simplified-package-policy-with_required_variables-3", f.agentPolicyID)
		b["inputs"] = map[string]any{"nginx-i-do-not-exists": map[string]any{}}
		f.kb.do("PUT", pp+f.pp3, b).wantStatus(t, 400).wantMessage(t, "Input not found: nginx-i-do-not-exists")
	})
	kibanaTest(t, ppUpdateTS, d, "should succeed and return formatted inputs when the format=simplified query param is passed", func(t *testing.T) {
		f := ppUpdateSetup(t)
		item := f.kb.do("PUT", pp+f.pp1+"?format=simplified", simplifiedRequiredVars("update-simplified-package-policy-with_required_variables-4", f.agentPolicyID)).wantStatus(t, 200).item()
		if isArray(item["inputs"]) {
			t.Errorf("inputs is an array")
		}
	})
	kibanaTest(t, ppUpdateTS, d, "should succeed and return arrayed inputs when the format=legacy query param is passed", func(t *testing.T) {
		f := ppUpdateSetup(t)
		item := f.kb.do("PUT", pp+f.pp1+"?format=legacy", simplifiedRequiredVars("update-simplified-package-policy-with_required_variables-5", f.agentPolicyID)).wantStatus(t, 200).item()
		if !isArray(item["inputs"]) {
			t.Errorf("inputs is not an array")
		}
	})
	kibanaTest(t, ppUpdateTS, d, "should return 400 if an invalid format query param is passed", func(t *testing.T) {
		f := ppUpdateSetup(t)
		f.kb.do("PUT", pp+f.pp1+"?format=foo", simplifiedRequiredVars("update-simplified-package-policy-with_required_variables-6", f.agentPolicyID)).wantStatus(t, 400)
	})
}
