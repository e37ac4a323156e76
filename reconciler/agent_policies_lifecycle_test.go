package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Agent policies against fleetsim: the adopt form and the refusals of
// Kibana's agent policy service
// (x-pack/platform/plugins/shared/fleet/server/services/agent_policy.ts,
// update and delete) that the plan mirrors.

// seedPolicies puts agent policies into the simulator, as Kibana or another
// tool would have made them.
func (h *simHarness) seedPolicies(pols ...fleetsim.SeedAgentPolicy) {
	h.t.Helper()
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": {AgentPolicies: pols}}}); err != nil {
		h.t.Fatal(err)
	}
}

// TestSim_AgentPolicy_AdoptTrue: an agent policy declared with adopt: true
// is managed in its output fields only. Its name, namespace and description
// in Fleet are left as they are (the declaration has none); a changed
// data_output_id is the only update; once it matches, the plan is empty and
// a second apply writes nothing. Dropping it from the document never
// deletes it, even with --prune (fleetform never owned its existence), and
// its record goes. Declaring adopt: true for a policy Fleet does not hold is
// blocked: adopt never creates.
func TestSim_AgentPolicy_AdoptTrue(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	ctx := context.Background()
	h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "existing", Name: "Made in Kibana", Namespace: "team", Description: "kept"})
	doc := &schema.Document{
		Outputs:       []schema.Output{{ID: "es2", Name: "es2", Type: "elasticsearch", Hosts: []string{"https://es2.example:9200"}}},
		AgentPolicies: []schema.AgentPolicy{{ID: "existing", Adopt: true, DataOutputID: ptr("es2")}},
	}
	p := h.plan(doc)
	c := change(t, p, plan.KindAgentPolicy, "existing")
	if c.Action != plan.Update || len(c.Fields) != 1 || c.Fields[0].Path != "data_output_id" {
		t.Fatalf("adopt: true: want an update of data_output_id only:\n%s", renderText(p))
	}
	h.lifecycleApply("adopt", doc, ApplyOptions{})
	got, err := h.kb.GetAgentPolicy(ctx, "existing")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Made in Kibana" || got.Namespace != "team" || got.Raw["description"] != "kept" || got.DataOutputID == nil || *got.DataOutputID != "es2" {
		t.Fatalf("adopted policy after apply: name %q namespace %q description %v data_output_id %v", got.Name, got.Namespace, got.Raw["description"], got.DataOutputID)
	}

	// Dropped from the document and pruned: not deleted, record forgotten.
	doc.AgentPolicies = nil
	h.connect(func(c *Config) { c.Prune = true })
	if p := h.plan(doc); changeOf(p, plan.KindAgentPolicy, "existing") != nil {
		t.Fatalf("an adopted policy is never pruned:\n%s", renderText(p))
	}
	h.apply(doc, ApplyOptions{Prune: true})
	if _, err := h.kb.GetAgentPolicy(ctx, "existing"); err != nil {
		t.Fatalf("adopted policy deleted by prune: %v", err)
	}
	recs, _ := h.inv.Load(ctx)
	for _, rec := range recs {
		if rec.Kind == plan.KindAgentPolicy && rec.ID == "existing" {
			t.Errorf("record of the undeclared adopted policy kept: %+v", rec)
		}
	}

	// adopt: true for a policy that does not exist.
	doc.AgentPolicies = []schema.AgentPolicy{{ID: "missing", Adopt: true, DataOutputID: ptr("es2")}}
	if c := change(t, h.plan(doc), plan.KindAgentPolicy, "missing"); c.Action != plan.Blocked || !strings.Contains(c.Reason, "adopt never creates a policy") {
		t.Fatalf("adopt: true of a missing policy: %+v", c)
	}
}

// TestSim_AgentPolicy_ManagedRefusals mirrors agent_policy.ts for hosted
// (is_managed) policies: an update without force is refused
// (HostedAgentPolicyRestrictionRelatedError, "Cannot update <key>"), and so
// is the delete ("Cannot delete hosted agent policy <id>"); fleetform never
// sends force, so the plan blocks both and Fleet keeps the policy as it is.
func TestSim_AgentPolicy_ManagedRefusals(t *testing.T) {
	h := newSimHarness(t)
	ctx := context.Background()
	h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "hosted", Name: "Hosted", Namespace: "default", IsManaged: true})
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "hosted", Name: "Hosted", Namespace: "default"}}}
	if got := h.own(doc); len(got) != 1 || got[0] != "main/agent_policy/hosted" {
		t.Fatalf("import --adopt recorded %v", got)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("a matching hosted policy needs no change:\n%s", renderText(p))
	}

	doc.AgentPolicies[0].Description = ptr("changed")
	c := change(t, h.plan(doc), plan.KindAgentPolicy, "hosted")
	if c.Action != plan.Blocked || !strings.Contains(c.Reason, "is_managed") {
		t.Fatalf("update of a hosted policy: %+v", c)
	}
	if _, err := h.r.Apply(ctx, doc, nil, ApplyOptions{}); err == nil {
		t.Fatal("apply with a blocked update reported success")
	}
	if got, _ := h.kb.GetAgentPolicy(ctx, "hosted"); got.Raw["description"] != nil {
		t.Errorf("hosted policy changed: description %v", got.Raw["description"])
	}

	h.connect(func(c *Config) { c.Prune = true })
	c = change(t, h.plan(&schema.Document{}), plan.KindAgentPolicy, "hosted")
	if c.Action != plan.Blocked || !strings.Contains(c.Reason, "Cannot delete hosted agent policy hosted in Fleet because the agent policy is managed") {
		t.Fatalf("prune of a hosted policy: %+v", c)
	}
	if _, err := h.r.Apply(ctx, &schema.Document{}, nil, ApplyOptions{Prune: true}); err == nil {
		t.Fatal("apply with a blocked delete reported success")
	}
	if _, err := h.kb.GetAgentPolicy(ctx, "hosted"); err != nil {
		t.Fatalf("hosted policy deleted: %v", err)
	}
}

// TestSim_AgentPolicy_PruneRefusals mirrors agent_policy.ts delete
// (x-pack/platform/plugins/shared/fleet/server/services/agent_policy.ts),
// whose refusals fleetform cannot lift (it never sends force, and force
// does not lift the agents rule): the plan shows the prune of such an owned
// policy as blocked with Kibana's reason, and apply --prune leaves it; a
// policy Kibana deletes is planned as a delete and apply deletes it. Each
// case runs the plan and the apply against fleetsim, whose delete follows
// the same source (fleetsim/policies.go deleteAgentPolicy).
func TestSim_AgentPolicy_PruneRefusals(t *testing.T) {
	createPolicy := func(body map[string]any) func(h *simHarness) {
		return func(h *simHarness) {
			if _, err := h.kb.CreateAgentPolicy(context.Background(), body); err != nil {
				h.t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name    string
		version string
		setup   func(h *simHarness)
		want    string // Kibana's refusal; "" when Kibana deletes the policy
	}{
		// `if (agentPolicy.is_managed && !options?.force)`: HostedAgentPolicyRestrictionRelatedError.
		{"hosted", "", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", IsManaged: true})
		}, "Cannot delete hosted agent policy busy in Fleet because the agent policy is managed by an external orchestration solution"},
		// `if (total > 0 && !agentPolicy?.supports_agentless)`: FleetError, force or not.
		{"agents", "", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", Agents: 3})
		}, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		// Before elastic/kibana#175815 (v8.12.2) the message was another.
		{"agents before 8.12.2", "8.12.1", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", Agents: 1})
		}, "Cannot delete agent policy that is assigned to agent(s)"},
		// Before 8.7 (elastic/kibana#151119) the list has no noAgentCount
		// and counts agents anyway: the count request must not send it.
		{"agents before 8.7", "8.6.2", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", Agents: 1})
		}, "Cannot delete agent policy that is assigned to agent(s)"},
		// A name a kuery must escape is still counted.
		{"agents, quoted name", "", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: `Busy "east" or name:x`, Namespace: "default", Agents: 1})
		}, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		// elastic/kibana#216513: an agentless policy is deleted, its agents unenrolled.
		{"agentless with agents", "", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", SupportsAgentless: true, Agents: 2})
		}, ""},
		{"agentless with agents before 9.1", "9.0.0", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", SupportsAgentless: true, Agents: 2})
		}, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		// On the 8.19 line from 8.19.0 (gateAgentlessDeleteWithAgents,
		// docs/fleetsim-inferred.md item 58); 8.18 still refuses.
		{"agentless with agents on 8.19", "8.19.0", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", SupportsAgentless: true, Agents: 2})
		}, ""},
		{"agentless with agents on 8.18", "8.18.8", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", SupportsAgentless: true, Agents: 2})
		}, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		// `if (hasManagedPackagePolicies && !options?.force)`: PackagePolicyRestrictionRelatedError.
		{"managed package policy", "", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default"})
			if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"id": "pp", "name": "pp", "namespace": "default", "policy_ids": []any{"busy"},
				"enabled": true, "inputs": []any{}, "is_managed": true, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}); err != nil {
				h.t.Fatal(err)
			}
		}, "Cannot delete agent policy busy that contains managed package policies in Fleet because the package policy is managed"},
		// An unmanaged package policy goes with the policy.
		{"unmanaged package policy", "", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default"})
			if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"id": "pp", "name": "pp", "namespace": "default", "policy_ids": []any{"busy"},
				"enabled": true, "inputs": []any{}, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}); err != nil {
				h.t.Fatal(err)
			}
		}, ""},
		// No rule for preconfigured, default or default Fleet Server
		// policies: delete records a preconfigured one's deletion.
		{"preconfigured", "", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", IsPreconfigured: true})
		}, ""},
		{"default policy", "", createPolicy(map[string]any{"id": "busy", "name": "Busy", "namespace": "default", "is_default": true}), ""},
		{"default Fleet Server policy", "", createPolicy(map[string]any{"id": "busy", "name": "Busy", "namespace": "default", "is_default_fleet_server": true, "has_fleet_server": true}), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h *simHarness
			if tc.version != "" {
				h = newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: tc.version})
			} else {
				h = newSimHarness(t)
			}
			tc.setup(h)
			name := h.mustPolicy("busy").Name
			if got := h.own(&schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "busy", Name: name, Namespace: "default"}}}); len(got) != 1 {
				t.Fatalf("import --adopt recorded %v", got)
			}
			h.connect(func(c *Config) { c.Prune = true })
			c := change(t, h.plan(&schema.Document{}), plan.KindAgentPolicy, "busy")
			_, applyErr := h.r.Apply(context.Background(), &schema.Document{}, nil, ApplyOptions{Prune: true})
			_, getErr := h.kb.GetAgentPolicy(context.Background(), "busy")
			if tc.want == "" {
				if c.Action != plan.Delete {
					t.Fatalf("prune: want a delete: %s: %s", c.Action, c.Reason)
				}
				if applyErr != nil || getErr == nil {
					t.Fatalf("apply --prune: %v; policy still there: %v", applyErr, getErr == nil)
				}
				return
			}
			if c.Action != plan.Blocked || !strings.Contains(c.Reason, tc.want) {
				t.Fatalf("prune: want blocked with %q: %s: %s", tc.want, c.Action, c.Reason)
			}
			if applyErr == nil || getErr != nil {
				t.Fatalf("apply --prune of a blocked delete: error %v; policy gone: %v", applyErr, getErr)
			}
		})
	}
}

func (h *simHarness) mustPolicy(id string) kibana.AgentPolicy {
	h.t.Helper()
	p, err := h.kb.GetAgentPolicy(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}
