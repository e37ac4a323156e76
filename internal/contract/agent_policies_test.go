package contract

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/schema"
)

// fleetformOnlyPolicyFields are schema.AgentPolicy keys fleetform never
// sends to Kibana.
var fleetformOnlyPolicyFields = map[string]bool{"adopt": true}

// TestAgentPolicyBodies_KnowEveryFieldFleetformSends: every key of
// schema.AgentPolicy (the fields fleetform sends in agent policy create and
// update bodies, reconciler/agent_policies.go) is declared by the contract's
// POST and PUT bodies, which refuse unknown keys as Kibana does. A new field
// in the schema without its contract fails here, not only in the one test
// that happens to apply it.
func TestAgentPolicyBodies_KnowEveryFieldFleetformSends(t *testing.T) {
	s := Require(t)
	var keys []string
	rt := reflect.TypeFor[schema.AgentPolicy]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && !fleetformOnlyPolicyFields[name] {
			keys = append(keys, name)
		}
	}
	if len(keys) < 20 {
		t.Fatalf("only %d keys read from schema.AgentPolicy: %v", len(keys), keys)
	}
	for _, route := range []struct{ path, method string }{
		{"/api/fleet/agent_policies", "POST"},
		{"/api/fleet/agent_policies/{agentPolicyId}", "PUT"},
	} {
		op := s.Doc.Paths.Value(route.path).GetOperation(route.method)
		body := op.RequestBody.Value.Content.Get("application/json").Schema.Value
		if body.AdditionalProperties.Has == nil || *body.AdditionalProperties.Has {
			t.Fatalf("%s %s body accepts unknown keys; the check would prove nothing", route.method, route.path)
		}
		for _, k := range keys {
			if _, ok := body.Properties[k]; !ok {
				t.Errorf("%s %s: fleetform sends %s, which the contract does not declare", route.method, route.path, k)
			}
		}
	}
}

// The agent policy fields added to the extract, held to
// server/types/models/agent_policy.ts AgentPolicyBaseSchema.
func TestCheck_AgentPolicyExtensions(t *testing.T) {
	s := Require(t)
	const base = `"name":"p","namespace":"default"`
	tests := []struct {
		name, method, path, body, wantErr string
	}{
		{"required_versions", "POST", "/api/fleet/agent_policies",
			`{` + base + `,"required_versions":[{"version":"9.1.0","percentage":10}]}`, ""},
		{"required_versions null on update", "PUT", "/api/fleet/agent_policies/p",
			`{` + base + `,"required_versions":null}`, ""},
		{"percentage above 100", "POST", "/api/fleet/agent_policies",
			`{` + base + `,"required_versions":[{"version":"9.1.0","percentage":101}]}`, "percentage"},
		{"percentage missing", "POST", "/api/fleet/agent_policies",
			`{` + base + `,"required_versions":[{"version":"9.1.0"}]}`, "percentage"},
		{"unknown key in a required version", "POST", "/api/fleet/agent_policies",
			`{` + base + `,"required_versions":[{"version":"9.1.0","percentage":5,"rollout":"x"}]}`, "rollout"},
		{"agentless resources", "PUT", "/api/fleet/agent_policies/p",
			`{` + base + `,"agentless":{"resources":{"requests":{"memory":"256Mi","cpu":"0.5"}}}}`, ""},
		{"agentless memory format", "POST", "/api/fleet/agent_policies",
			`{` + base + `,"agentless":{"resources":{"requests":{"memory":"256MB"}}}}`, "memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := s.Check([]Request{req(tt.method, tt.path, "", tt.body)})
			switch {
			case tt.wantErr == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case tt.wantErr != "" && len(errs) == 0:
				t.Errorf("accepted, want an error naming %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(errs[0].Error(), tt.wantErr):
				t.Errorf("error %v, want one naming %q", errs, tt.wantErr)
			}
		})
	}
}
