package fleetsim

import (
	"strings"
	"testing"
)

// apis/package_policy/create.ts. Adapted fixtures (the Kibana test
// registry's packages are not in fleetsim's registry):
//   - filetest 0.1.0 (one input, single_input, no policy template) → nginx
//     2.1.0 with the input type logfile;
//   - with_required_variables 0.1.0 (test_input, stream
//     with_required_variables.log, required test_var_required) → nginx 2.1.0,
//     input nginx-logfile, stream nginx.access, whose required vars are
//     paths, tags and preserve_original_event;
//   - single_input_no_streams 0.1.0 → endpoint 9.0.0 (one input, no data
//     streams);
//   - endpoint 8.5.0 (a limited package) → endpoint 9.0.0.
// Where Kibana compares the whole simplified inputs of its one-input
// fixture, the port compares the part it sent (nginx has more inputs).

const ppCreateTS = "apis/package_policy/create.ts"

var filetest = map[string]any{"name": "nginx", "title": "Nginx", "version": "2.1.0"}

func ppCreateSetup(t *testing.T) (kb *client, agentPolicyID, agentPolicyID2 string) {
	t.Helper()
	_, kb = startMain(t)
	agentPolicyID = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy 1", "namespace": "default"}).must(t, 200).item()["id"].(string)
	agentPolicyID2 = kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy 2", "namespace": "default"}).must(t, 200).item()["id"].(string)
	return kb, agentPolicyID, agentPolicyID2
}

func filetestBody(name, policyID string, extra map[string]any) map[string]any {
	b := map[string]any{"name": name, "description": "", "namespace": "default", "policy_id": policyID, "enabled": true, "inputs": []any{}, "package": filetest}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// requiredVarsInputs is the full-format input of with_required_variables,
// with vars for its one stream.
func requiredVarsInputs(vars map[string]any) []any {
	return []any{map[string]any{"enabled": true, "type": "logfile", "streams": []any{map[string]any{
		"data_stream": map[string]any{"dataset": "nginx.access", "type": "logs"}, "enabled": true, "vars": vars}}}}
}

var requiredVarsProvided = map[string]any{
	"paths":                   map[string]any{"value": []any{"/var/log/nginx/access.log*"}},
	"tags":                    map[string]any{"value": []any{"nginx-access"}},
	"preserve_original_event": map[string]any{"value": false},
}

func TestConformance_PackagePolicy_Create(t *testing.T) {
	const d = "Package Policy - create"
	const pp = "/api/fleet/package_policies"
	kibanaTest(t, ppCreateTS, d, "can only add to hosted agent policies using the force parameter", func(t *testing.T) {
		kb, _, _ := ppCreateSetup(t)
		hosted := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Hosted policy", "namespace": "default", "is_managed": true}).wantStatus(t, 200).item()["id"].(string)
		r := kb.do("POST", pp, filetestBody("filetest", hosted, nil)).wantStatus(t, 400)
		wantEql(t, "statusCode", 400.0, r.Body["statusCode"])
		wantContains(t, r.msg(), "Cannot update integrations of hosted agent policy")
		wantEql(t, "name", "filetest-1", kb.do("POST", pp, filetestBody("filetest-1", hosted, map[string]any{"force": true})).wantStatus(t, 200).item()["name"])
	})
	kibanaTest(t, ppCreateTS, d, "should work with valid values", func(t *testing.T) {
		// Partial: the saved-object tag counts (/internal/saved_objects_tagging) are not simulated.
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp, filetestBody("filetest-2", ap, nil)).wantStatus(t, 200)
	})
	kibanaTest(t, ppCreateTS, d, "should work with multiple policy ids", func(t *testing.T) {
		kb, ap, ap2 := ppCreateSetup(t)
		b := filetestBody("filetest-6", "", map[string]any{"policy_ids": []any{ap, ap2}})
		delete(b, "policy_id")
		wantEql(t, "policy_ids", []any{ap, ap2}, kb.do("POST", pp, b).wantStatus(t, 200).item()["policy_ids"])
	})
	kibanaTest(t, ppCreateTS, d, "should work with no policy ids", func(t *testing.T) {
		kb, _, _ := ppCreateSetup(t)
		b := filetestBody("filetest-no-policies", "", map[string]any{"policy_ids": []any{}})
		delete(b, "policy_id")
		item := kb.do("POST", pp, b).wantStatus(t, 200).item()
		if v, ok := item["policy_id"]; ok {
			t.Errorf("policy_id = %v, want undefined", v)
		}
		wantEql(t, "policy_ids", []any{}, item["policy_ids"])
	})
	kibanaTest(t, ppCreateTS, d, "should allow to pass an empty namespace", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp, filetestBody("filetest-5", ap, map[string]any{"namespace": ""})).wantStatus(t, 200)
	})
	kibanaTest(t, ppCreateTS, d, "should return a 400 with an invalid namespace", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp, filetestBody("filetest-2", ap, map[string]any{"namespace": "InvalidNamespace"})).wantStatus(t, 400)
		kb.do("POST", pp, filetestBody("filetest-1", ap, map[string]any{"namespace": "testlength" + strings.Repeat("😀", 46)})).wantStatus(t, 400)
	})
	kibanaTest(t, ppCreateTS, d, "should not allow multiple limited packages on the same agent policy", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", "/api/fleet/epm/packages/endpoint/9.0.0", map[string]any{"force": true}).must(t, 200)
		endpoint := map[string]any{"name": "endpoint", "title": "Endpoint", "version": "9.0.0"}
		kb.do("POST", pp, filetestBody("endpoint-1", ap, map[string]any{"package": endpoint, "force": true})).wantStatus(t, 200)
		kb.do("POST", pp, filetestBody("endpoint-2", ap, map[string]any{"package": endpoint})).wantStatus(t, 400)
	})
	kibanaTest(t, ppCreateTS, d, "should return a 409 if there is another package policy with the same name", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp, filetestBody("same-name-test-1", ap, nil)).wantStatus(t, 200)
		kb.do("POST", pp, filetestBody("same-name-test-1", ap, nil)).wantStatus(t, 409)
	})
	kibanaTest(t, ppCreateTS, d, "should return a 409 if there is a package policy with the same name on a different policy", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		other := kb.do("POST", "/api/fleet/agent_policies", map[string]any{"name": "Test policy 3", "namespace": "default"}).must(t, 200).item()["id"].(string)
		kb.do("POST", pp, filetestBody("same-name-test-2", other, nil)).wantStatus(t, 200)
		kb.do("POST", pp, filetestBody("same-name-test-2", ap, nil)).wantStatus(t, 409)
	})
	kibanaTest(t, ppCreateTS, d, "should return a 400 with required variables not provided", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		r := kb.do("POST", pp, filetestBody("pacakge-policy-required-variables-test-456", ap, map[string]any{"inputs": requiredVarsInputs(map[string]any{})})).wantStatus(t, 400)
		wantContains(t, r.msg(), "Package policy is invalid")
	})
	kibanaTest(t, ppCreateTS, d, "should work with required variables provided", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp, filetestBody("pacakge-policy-required-variables-test-123", ap, map[string]any{"inputs": requiredVarsInputs(requiredVarsProvided)})).wantStatus(t, 200)
	})
	kibanaTest(t, ppCreateTS, d, "should trim whitespace from policy name", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		const name = "  package-policy-with-whitespace-prefix-and-suffix  "
		id := kb.do("POST", pp, filetestBody(name, ap, map[string]any{"inputs": requiredVarsInputs(requiredVarsProvided)})).wantStatus(t, 200).item()["id"].(string)
		wantEql(t, "name", strings.TrimSpace(name), kb.do("GET", pp+"/"+id, nil).item()["name"])
	})
	kibanaTest(t, ppCreateTS, d, "should return a 200 when a package has no variables or data streams", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp, filetestBody("no-variables-or-data-streams", ap, map[string]any{"package": map[string]any{"name": "endpoint", "version": "9.0.0"},
			"inputs": []any{map[string]any{"enabled": true, "streams": []any{}, "type": "endpoint"}}})).wantStatus(t, 200)
	})
	singleInput := []any{map[string]any{"enabled": true, "streams": []any{}, "type": "logfile"}}
	kibanaTest(t, ppCreateTS, d, "should return 200 and formatted inputs when the format=simplified query param is passed", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		item := kb.do("POST", pp+"?format=simplified", filetestBody("filetest-3", ap, map[string]any{"inputs": singleInput})).wantStatus(t, 200).item()
		wantEql(t, "inputs", map[string]any{"logfile": map[string]any{"enabled": true, "streams": map[string]any{}}}, item["inputs"])
	})
	kibanaTest(t, ppCreateTS, d, "should return 200 and arrayed inputs when the format=legacy query param is passed", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		item := kb.do("POST", pp+"?format=legacy", filetestBody("filetest-4", ap, map[string]any{"inputs": singleInput})).wantStatus(t, 200).item()
		wantEql(t, "inputs", singleInput, item["inputs"])
	})
	kibanaTest(t, ppCreateTS, d, "should return 400 if an invalid format query param is passed", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp+"?format=foo", filetestBody("filetest-2", ap, map[string]any{"inputs": singleInput})).wantStatus(t, 400)
	})
	kibanaTest(t, ppCreateTS, d, "should return 200 and disable an input that has all disabled streams", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		item := kb.do("POST", pp, filetestBody("filetest-disabled-streams", ap, map[string]any{"inputs": []any{map[string]any{"enabled": true, "type": "logfile",
			"streams": []any{map[string]any{"enabled": false, "data_stream": map[string]any{"type": "logs", "dataset": "nginx.access"}}}}}})).wantStatus(t, 200).item()
		wantEql(t, "inputs[0].enabled", false, getPathT(item["inputs"].([]any)[0].(map[string]any), "enabled"))
	})
	kibanaTest(t, ppCreateTS, d, "should return 400 if setting output to non-local ES for an agentless integration", func(t *testing.T) {
		kb, _, _ := ppCreateSetup(t)
		out := kb.do("POST", "/api/fleet/outputs", map[string]any{"name": "logstash-output", "type": "logstash", "hosts": []any{"test.fr:443"},
			"ssl": map[string]any{"certificate": "CERTIFICATE", "key": "KEY", "certificate_authorities": []any{"CA1", "CA2"}}}).wantStatus(t, 200).item()["id"]
		kb.do("POST", pp, map[string]any{"name": "agentless-integration-policy", "description": "", "namespace": "default", "policy_ids": []any{},
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}, "supports_agentless": true, "output_id": out}).
			wantStatus(t, 400).wantMessage(t, `Output type "logstash" is not usable with package "nginx"`)
	})
}

func simplifiedRequiredVars(name, policyID string) map[string]any {
	return map[string]any{"name": name, "description": "", "namespace": "default", "policy_id": policyID,
		"inputs":  map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{"paths": []any{"/tmp/test.log"}}}}}},
		"package": map[string]any{"name": "nginx", "version": "2.1.0"}}
}

func TestConformance_PackagePolicy_CreateSimplified(t *testing.T) {
	const d = "Simplified package policy"
	const pp = "/api/fleet/package_policies"
	kibanaTest(t, ppCreateTS, d, "should support providing an id", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		b := simplifiedRequiredVars("create-simplified-package-policy-required-variables-1", ap)
		b["id"] = "test-id-1"
		kb.do("POST", pp, b).wantStatus(t, 200)
		kb.do("GET", pp+"/test-id-1", nil).wantStatus(t, 200)
	})
	kibanaTest(t, ppCreateTS, d, "should work with valid values", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp, simplifiedRequiredVars("create-simplified-package-policy-required-variables-2", ap)).wantStatus(t, 200)
	})
	kibanaTest(t, ppCreateTS, d, "should throw with invalid variables", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		b := simplifiedRequiredVars("create-simplified-package-policy-required-variables-3", ap)
		b["inputs"] = map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{"var_id_do_exists": "I do not exists"}}}}}
		kb.do("POST", pp, b).wantStatus(t, 400).wantMessage(t, "Variable nginx-logfile nginx.access:var_id_do_exists not found")
	})
	kibanaTest(t, ppCreateTS, d, "should throw with invalid inputs", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		b := simplifiedRequiredVars("create-simplified-package-policy-required-variables-4", ap)
		b["inputs"] = map[string]any{"i-do-not-exists-input": map[string]any{}}
		kb.do("POST", pp, b).wantStatus(t, 400)
	})
	kibanaTest(t, ppCreateTS, d, "should throw with invalid streams", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		b := simplifiedRequiredVars("create-simplified-package-policy-required-variables-5", ap)
		b["inputs"] = map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"iamnotexisting.log": map[string]any{"vars": map[string]any{"paths": []any{"/tmp/test.log"}}}}}}
		kb.do("POST", pp, b).wantStatus(t, 400)
	})
	kibanaTest(t, ppCreateTS, d, "should return 200 and formatted inputs when the format=simplified query param is passed", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		item := kb.do("POST", pp+"?format=simplified", simplifiedRequiredVars("create-simplified-package-policy-required-variables-1", ap)).wantStatus(t, 200).item()
		wantEql(t, "inputs.nginx-logfile.enabled", true, getPathT(item, "inputs", "nginx-logfile", "enabled"))
		wantEql(t, "stream enabled", true, getPathT(item, "inputs", "nginx-logfile", "streams", "nginx.access", "enabled"))
		wantEql(t, "stream vars.paths", []any{"/tmp/test.log"}, getPathT(item, "inputs", "nginx-logfile", "streams", "nginx.access", "vars", "paths"))
	})
	kibanaTest(t, ppCreateTS, d, "should return 200 and arrayed inputs when the format=legacy query param is passed", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		item := kb.do("POST", pp+"?format=legacy", simplifiedRequiredVars("create-simplified-package-policy-required-variables-2", ap)).wantStatus(t, 200).item()
		if !isArray(item["inputs"]) {
			t.Errorf("inputs is not an array: %v", item["inputs"])
		}
	})
	kibanaTest(t, ppCreateTS, d, "should return 400 if an invalid format query param is passed", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		kb.do("POST", pp+"?format=foo", simplifiedRequiredVars("create-simplified-package-policy-required-variables-6", ap)).wantStatus(t, 400)
	})
}

// additional_datastreams_permissions: the .fleet-policies output
// permissions these tests also read are not simulated (partial ports).
func TestConformance_PackagePolicy_AdditionalDatastreamsPermissions(t *testing.T) {
	const pp = "/api/fleet/package_policies"
	singleInput := []any{map[string]any{"enabled": true, "streams": []any{}, "type": "logfile"}}
	kibanaTest(t, ppCreateTS, "Package Policy - create", "should support additional_datastreams_permissions", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		b := filetestBody("filetest-3-1", "", map[string]any{"policy_ids": []any{ap}, "inputs": singleInput,
			"additional_datastreams_permissions": []any{"logs-tata-default", "metrics-tata-default"}})
		delete(b, "policy_id")
		id := kb.do("POST", pp, b).wantStatus(t, 200).item()["id"].(string)
		wantEql(t, "additional_datastreams_permissions", []any{"logs-tata-default", "metrics-tata-default"},
			kb.do("GET", pp+"/"+id, nil).wantStatus(t, 200).item()["additional_datastreams_permissions"])
	})
	kibanaTest(t, ppCreateTS, "Package Policy - create", "should throw with invalid additional_datastreams_permissions", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		b := filetestBody("filetest-3-2", "", map[string]any{"policy_ids": []any{ap}, "inputs": singleInput,
			"additional_datastreams_permissions": []any{"invalid-tata-default", "metrics-tata-default"}})
		delete(b, "policy_id")
		r := kb.do("POST", pp, b).wantStatus(t, 400)
		wantEql(t, "error", "Bad Request", r.Body["error"])
		wantContains(t, r.msg(), "invalid-tata-default is not a valid datastream permissions")
	})
	kibanaTest(t, ppCreateTS, "Simplified package policy", "should support additional_datastreams_permissions", func(t *testing.T) {
		kb, ap, _ := ppCreateSetup(t)
		b := simplifiedRequiredVars("create-simplified-package-policy-required-variables-7", "")
		delete(b, "policy_id")
		b["policy_ids"] = []any{ap}
		b["additional_datastreams_permissions"] = []any{"logs-test-default", "metrics-test-default"}
		id := kb.do("POST", pp, b).wantStatus(t, 200).item()["id"].(string)
		wantEql(t, "additional_datastreams_permissions", []any{"logs-test-default", "metrics-test-default"},
			kb.do("GET", pp+"/"+id, nil).wantStatus(t, 200).item()["additional_datastreams_permissions"])
	})
}
