package fleetsim

import (
	"fmt"
	"strings"
	"testing"
)

// Kibana's agent policy delete (x-pack/platform/plugins/shared/fleet/
// server/services/agent_policy.ts, delete), beyond the hosted-policy and
// agents cases of TestConformance_AgentPolicy_Delete: an agentless policy
// is deleted although agents are assigned to it (`total > 0 &&
// !agentPolicy?.supports_agentless`), and a policy holding a managed
// package policy is refused without force
// (PackagePolicyRestrictionRelatedError(`Cannot delete agent policy ${id}
// that contains managed package policies`), whose message
// FLEET/server/errors/index.ts completes).
func TestAgentPolicyDelete_AgentlessAndManagedPackagePolicies(t *testing.T) {
	t.Run("agentless policy with agents is deleted", func(t *testing.T) {
		s, kb := startMain(t)
		seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "al", Name: "Agentless", Namespace: "default", SupportsAgentless: true, Agents: 2}}})
		kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "al"}).wantStatus(t, 200)
		kb.do("GET", "/api/fleet/agent_policies/al", nil).wantStatus(t, 404)
	})
	t.Run("policy with a managed package policy is refused, unless force", func(t *testing.T) {
		_, kb := startMain(t)
		kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "ap", "name": "AP", "namespace": "default"}).wantStatus(t, 200)
		kb.do("POST", "/api/fleet/package_policies", map[string]any{"id": "pp", "name": "pp", "namespace": "default", "policy_ids": []any{"ap"},
			"enabled": true, "inputs": []any{}, "is_managed": true, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}).wantStatus(t, 200)
		r := kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "ap"}).wantStatus(t, 400)
		want := "Cannot delete agent policy ap that contains managed package policies in Fleet because the package policy is managed by an external orchestration solution"
		if !strings.Contains(r.msg(), want) {
			t.Errorf("message %q, want %q", r.msg(), want)
		}
		kb.do("GET", "/api/fleet/agent_policies/ap", nil).wantStatus(t, 200)
		kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "ap", "force": true}).wantStatus(t, 200)
	})
	t.Run("hosted policy message is completed like Kibana's", func(t *testing.T) {
		_, kb := startMain(t)
		kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "h", "name": "H", "namespace": "default", "is_managed": true}).wantStatus(t, 200)
		r := kb.do("POST", "/api/fleet/agent_policies/delete", map[string]any{"agentPolicyId": "h"}).wantStatus(t, 400)
		if want := "Cannot delete hosted agent policy h" + hostedAgentPolicyRestriction; r.msg() != want {
			t.Errorf("message %q, want %q", r.msg(), want)
		}
	})
}

// The refusal to delete a policy with agents by version
// (server/services/agent_policy.ts, delete): its message and status before
// and after elastic/kibana#175815 (v8.12.2) — before it `throw new
// Error(...)`, which server/errors/handlers.ts answers with 500, after it a
// FleetError (400) —, the agentless exemption from elastic/kibana#216513,
// and force, which does not lift it.
func TestAgentPolicyDelete_AgentsByVersion(t *testing.T) {
	cases := []struct {
		version   string
		agentless bool
		force     bool
		status    int
		msg       string
	}{
		{"8.12.1", false, false, 500, "Cannot delete agent policy that is assigned to agent(s)"},
		{"8.12.2", false, false, 400, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		{"9.3.0", false, true, 400, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		{"9.0.0", true, false, 400, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		{"9.1.0", true, false, 200, ""},
		// versionAgentlessDeleteWithAgents: on 8.19 from 8.19.0, not on 8.18
		// nor 9.0 (docs/fleetsim-inferred.md item 58).
		{"8.18.8", true, false, 400, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		{"8.19.0", true, false, 200, ""},
		{"8.19.5", true, false, 200, ""},
		{"9.0.8", true, false, 400, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s agentless=%v force=%v", tc.version, tc.agentless, tc.force), func(t *testing.T) {
			s, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version})
			seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "p", Name: "P", Namespace: "default", SupportsAgentless: tc.agentless, Agents: 2}}})
			body := map[string]any{"agentPolicyId": "p"}
			if tc.force {
				body["force"] = true
			}
			r := kb.do("POST", "/api/fleet/agent_policies/delete", body).wantStatus(t, tc.status)
			if r.msg() != tc.msg && tc.status != 200 {
				t.Errorf("message %q, want %q", r.msg(), tc.msg)
			}
		})
	}
}

// The list's agent counts by version (routes/agent_policy/handlers.ts
// getAgentPoliciesHandler; types/rest_spec/agent_policy.ts): before
// elastic/kibana#191661 (v8.16.0) Kibana counts unless noAgentCount=true
// and withAgentCount is an unknown key; from it, counting is opt-in with
// withAgentCount=true or noAgentCount=false. Before elastic/kibana#151119
// (v8.7.0) the query was ListWithKuerySchema.extends({ full }): noAgentCount
// is an unknown key too, and every list counts.
func TestListAgentPolicies_AgentCountsByVersion(t *testing.T) {
	cases := []struct {
		version, query string
		status         int
		counted        bool
	}{
		{"8.6.2", "", 200, true},
		{"8.6.2", "&noAgentCount=false", 400, false},
		{"8.6.2", "&noAgentCount=true", 400, false},
		{"8.7.0", "&noAgentCount=true", 200, false},
		{"8.15.3", "", 200, true},
		{"8.15.3", "&noAgentCount=true", 200, false},
		{"8.15.3", "&noAgentCount=false", 200, true},
		{"8.15.3", "&withAgentCount=true", 400, false},
		{"8.16.0", "", 200, false},
		{"8.16.0", "&noAgentCount=false", 200, true},
		{"8.16.0", "&withAgentCount=true", 200, true},
	}
	for _, tc := range cases {
		t.Run(tc.version+tc.query, func(t *testing.T) {
			s, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version})
			seedPolicies(t, s, &ClusterSeed{AgentPolicies: []SeedAgentPolicy{{ID: "p", Name: "P", Namespace: "default", Agents: 3}}})
			r := kb.do("GET", "/api/fleet/agent_policies?perPage=10"+tc.query, nil).wantStatus(t, tc.status)
			if tc.status != 200 {
				key := strings.SplitN(strings.TrimPrefix(tc.query, "&"), "=", 2)[0]
				if want := "[request query." + key + "]: definition for this key is missing"; r.msg() != want {
					t.Errorf("message %q, want %q", r.msg(), want)
				}
				return
			}
			got, has := r.items()[0].(map[string]any)["agents"]
			if has != tc.counted || tc.counted && got != 3.0 {
				t.Errorf("agents = %v (present %v), want counted %v", got, has, tc.counted)
			}
		})
	}
}
