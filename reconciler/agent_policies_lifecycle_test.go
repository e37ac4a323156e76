package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
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
	if c.Action != plan.Blocked || !strings.Contains(c.Reason, "managed (is_managed)") {
		t.Fatalf("prune of a hosted policy: %+v", c)
	}
	if _, err := h.r.Apply(ctx, &schema.Document{}, nil, ApplyOptions{Prune: true}); err == nil {
		t.Fatal("apply with a blocked delete reported success")
	}
	if _, err := h.kb.GetAgentPolicy(ctx, "hosted"); err != nil {
		t.Fatalf("hosted policy deleted: %v", err)
	}
}

// TestSim_AgentPolicy_PruneRefusalsNotMirrored mirrors agent_policy.ts
// delete, which refuses without force "Cannot delete an agent policy that
// is assigned to any active or inactive agents" (unless it supports
// agentless) and "Cannot delete agent policy <id> that contains managed
// package policies" (PackagePolicyRestrictionRelatedError). The plan must
// show the prune of such an owned policy as blocked, as it does for a
// package whose policies agents use, rather than plan a delete Kibana (and
// fleetsim) refuse at apply.
func TestSim_AgentPolicy_PruneRefusalsNotMirrored(t *testing.T) {
	t.Skip("defect: agentPolicyKind.prune (reconciler/agent_policies.go) plans a delete Kibana refuses; see docs/kinds-coverage.md, Known gaps")
	cases := []struct {
		name  string
		setup func(h *simHarness)
		want  string
	}{
		{"agents", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", Agents: 3})
		}, "Cannot delete an agent policy that is assigned to any active or inactive agents"},
		{"managed package policy", func(h *simHarness) {
			h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default"})
			if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"id": "pp", "name": "pp", "namespace": "default", "policy_ids": []any{"busy"},
				"enabled": true, "inputs": []any{}, "is_managed": true, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}); err != nil {
				h.t.Fatal(err)
			}
		}, "Cannot delete agent policy busy that contains managed package policies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t)
			tc.setup(h)
			if got := h.own(&schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "busy", Name: "Busy", Namespace: "default"}}}); len(got) != 1 {
				t.Fatalf("import --adopt recorded %v", got)
			}
			h.connect(func(c *Config) { c.Prune = true })
			c := change(t, h.plan(&schema.Document{}), plan.KindAgentPolicy, "busy")
			if c.Action != plan.Blocked || !strings.Contains(c.Reason, tc.want) {
				t.Fatalf("prune: want blocked with %q: %s: %s", tc.want, c.Action, c.Reason)
			}
		})
	}
}
