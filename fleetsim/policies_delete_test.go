package fleetsim

import (
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
