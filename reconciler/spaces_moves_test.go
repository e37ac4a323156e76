package reconciler

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// The agent policy space moves updateAgentPolicySpaces refuses
// (x-pack/platform/plugins/shared/fleet/server/services/spaces/agent_policy.ts;
// spaces/agent_policy.test.ts "throw when trying to change a managed
// policies space", "throw when trying to change space to a policy with
// reusable package policies"; spaces_moves.go): the plan blocks each with
// Kibana's message, apply writes nothing, fleetsim answers that very
// message for the body apply would send (plan == apply), and a change
// depending on the blocked move is blocked with it. A move Kibana accepts
// still applies.
func TestSim_SpaceMovesKibanaRefuses(t *testing.T) {
	const (
		reusable = "Agent policies using reusable integration policies cannot be moved to a different space."
		hostedH  = "Cannot update hosted agent policy h space " + hostedAgentPolicyRestriction
	)
	nginx := func(id string, policies ...any) map[string]any {
		return map[string]any{"id": id, "name": id, "namespace": "default", "policy_ids": policies,
			"package": map[string]any{"name": "nginx", "version": "2.1.0"}}
	}
	policy := func(id string, spaces ...string) schema.AgentPolicy {
		return schema.AgentPolicy{ID: id, Name: strings.ToUpper(id), Namespace: "default", SpaceIDs: spaces}
	}
	yes := true
	for _, tc := range []struct {
		name     string
		policies []map[string]any // created in team-a first
		ips      []map[string]any // then these integration policies, in team-a
		doc      *schema.Document
		id       string // the agent policy the plan blocks or moves
		want     plan.Action
		msg      string // Kibana's message, in the plan's reason and fleetsim's answer
		// the request apply would send for it
		method, path string
		body         map[string]any
		dependent    string // an integration policy change blocked with it
		detail       string // what else the reason says
	}{
		{
			name:     "a reusable integration policy",
			policies: []map[string]any{{"id": "p", "name": "P", "namespace": "default"}, {"id": "q", "name": "Q", "namespace": "default"}},
			ips:      []map[string]any{nginx("shared", "p", "q")},
			doc:      &schema.Document{AgentPolicies: []schema.AgentPolicy{policy("p", "team-a", "team-b"), policy("q")}},
			id:       "p", want: plan.Blocked, msg: reusable, detail: "its integration policy shared (also in agent policy q) is reusable",
			method: "PUT", path: "p", body: map[string]any{"name": "P", "namespace": "default", "space_ids": []any{"team-a", "team-b"}},
		},
		{
			// Apply writes agent policies first: taking the integration
			// policy off q in the same plan does not help, and that change,
			// depending on the move, is blocked with it.
			name:     "a reusable integration policy taken off the other agent policy in the same plan",
			policies: []map[string]any{{"id": "p", "name": "P", "namespace": "default"}, {"id": "q", "name": "Q", "namespace": "default"}},
			ips:      []map[string]any{nginx("shared", "p", "q")},
			doc: &schema.Document{AgentPolicies: []schema.AgentPolicy{policy("p", "team-a", "team-b"), policy("q")},
				PackagePolicies: []schema.PackagePolicy{{ID: "shared", Name: "shared", Namespace: "default", PolicyIDs: []string{"p"},
					Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}}}},
			id: "p", want: plan.Blocked, msg: reusable, dependent: "shared",
			method: "PUT", path: "p", body: map[string]any{"name": "P", "namespace": "default", "space_ids": []any{"team-a", "team-b"}},
		},
		{
			name:     "a hosted policy",
			policies: []map[string]any{{"id": "h", "name": "H", "namespace": "default", "is_managed": true}},
			doc:      &schema.Document{AgentPolicies: []schema.AgentPolicy{policy("h", "team-b")}},
			id:       "h", want: plan.Blocked, msg: hostedH,
			method: "PUT", path: "h", body: map[string]any{"name": "H", "namespace": "default", "space_ids": []any{"team-b"}},
		},
		{
			// createAgentPolicyHandler creates it in team-a, then refuses
			// the move: the plan creates nothing.
			name: "a hosted policy created with space_ids",
			doc: &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "h", Name: "H", Namespace: "default", IsManaged: &yes,
				SpaceIDs: []string{"team-a"}}}},
			id: "h", want: plan.Blocked, msg: hostedH,
			method: "POST", body: map[string]any{"id": "h", "name": "H", "namespace": "default", "is_managed": true, "space_ids": []any{"team-a"}},
		},
		{
			name:     "own integration policies move with it",
			policies: []map[string]any{{"id": "p", "name": "P", "namespace": "default"}, {"id": "q", "name": "Q", "namespace": "default"}},
			ips:      []map[string]any{nginx("own", "p"), nginx("other", "q")},
			doc:      &schema.Document{AgentPolicies: []schema.AgentPolicy{policy("p", "team-a", "team-b"), policy("q")}},
			id:       "p", want: plan.Update,
		},
		{
			// Kibana compares the spaces first: a reusable integration
			// policy does not stop other changes.
			name:     "a reusable integration policy, spaces unchanged",
			policies: []map[string]any{{"id": "p", "name": "P", "namespace": "default"}, {"id": "q", "name": "Q", "namespace": "default"}},
			ips:      []map[string]any{nginx("shared", "p", "q")},
			doc:      &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "P2", Namespace: "default", SpaceIDs: []string{"team-a"}}, policy("q")}},
			id:       "p", want: plan.Update,
		},
		{
			name: "a hosted policy created without space_ids",
			doc:  &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "h", Name: "H", Namespace: "default", IsManaged: &yes}}},
			id:   "h", want: plan.Create,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t)
			for _, s := range []string{"team-a", "team-b"} {
				createSimSpace(t, h.main, s)
			}
			a := spaceClient(t, h.main, "team-a", kibana.Auth{})
			ctx := t.Context()
			for _, p := range tc.policies {
				if _, err := a.CreateAgentPolicy(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			for _, ip := range tc.ips {
				if _, err := a.CreateIntegrationPolicy(ctx, ip); err != nil {
					t.Fatal(err)
				}
			}
			h.kb = a
			h.connect(func(c *Config) { c.Space = "team-a" })
			if tc.want != plan.Blocked {
				h.apply(tc.doc) // mustApply: no change fails
				if p := h.plan(tc.doc); !p.Empty() {
					t.Errorf("not converged: %+v", p.Changes)
				}
				if tc.want == plan.Update && slices.Contains(tc.doc.AgentPolicies[0].SpaceIDs, "team-b") {
					b := spaceClient(t, h.main, "team-b", kibana.Auth{})
					if _, err := b.GetAgentPolicy(ctx, tc.id); err != nil {
						t.Errorf("moved policy from team-b: %v", err)
					}
					if _, err := b.GetIntegrationPolicy(ctx, "own"); err != nil {
						t.Errorf("its integration policy from team-b: %v", err)
					}
				}
				return
			}
			p := h.plan(tc.doc)
			var ch, dep *plan.Change
			for i := range p.Changes {
				switch p.Changes[i].ID {
				case tc.id:
					ch = &p.Changes[i]
				case tc.dependent:
					dep = &p.Changes[i]
				}
			}
			if ch == nil || ch.Action != plan.Blocked || !strings.Contains(ch.Reason, "agent policy "+tc.id) || !strings.Contains(ch.Reason, "("+tc.msg+")") {
				t.Fatalf("plan: %+v", p.Changes)
			}
			if !strings.Contains(ch.Reason, tc.detail) {
				t.Errorf("reason %q, want %q in it", ch.Reason, tc.detail)
			}
			if tc.dependent != "" && (dep == nil || dep.Action != plan.Blocked || !strings.Contains(dep.Reason, "needs agent_policy "+tc.id+", which is blocked")) {
				t.Errorf("dependent %s: %+v", tc.dependent, dep)
			}
			h.sim.ClearRequests()
			if _, err := h.r.Apply(ctx, tc.doc, nil, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("apply: %v", err)
			}
			if w := h.writes(); len(w) != 0 {
				t.Errorf("apply wrote %v", w)
			}
			// What Kibana answers to the request apply would have sent.
			var err error
			if tc.method == "POST" {
				_, err = a.CreateAgentPolicy(ctx, tc.body)
			} else {
				_, err = a.UpdateAgentPolicy(ctx, tc.path, tc.body)
			}
			var ae *kibana.APIError
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != tc.msg {
				t.Errorf("fleetsim answers %v, want 400 %q", err, tc.msg)
			}
		})
	}
}
