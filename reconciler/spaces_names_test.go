package reconciler

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// A name taken in another space the change goes to: Kibana's 409 becomes a
// blocked change with Kibana's message, and apply does what the plan says
// (spaces_names.go; elastic/kibana#239631). The repository's space is
// team-a; team-b is another.
func TestSim_SpaceNamesAcrossSpaces(t *testing.T) {
	type clients struct{ a, b *kibana.Client }
	policy := func(kb *kibana.Client, id, name string, spaces ...string) func(*testing.T, clients) {
		return func(t *testing.T, c clients) {
			body := map[string]any{"id": id, "name": name, "namespace": "default"}
			if len(spaces) > 0 {
				body["space_ids"] = spaces
			}
			if kb == nil {
				kb = c.a
			}
			if _, err := kb.CreateAgentPolicy(t.Context(), body); err != nil {
				t.Fatal(err)
			}
		}
	}
	nginx := func(inB bool, name, agentPolicy string) func(*testing.T, clients) {
		return func(t *testing.T, c clients) {
			kb := c.a
			if inB {
				kb = c.b
			}
			if _, err := kb.CreateIntegrationPolicy(t.Context(), map[string]any{"name": name, "namespace": "default", "policy_ids": []any{agentPolicy},
				"package": map[string]any{"name": "nginx", "version": "2.1.0"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	inB := func(f func(*kibana.Client) func(*testing.T, clients)) func(*testing.T, clients) {
		return func(t *testing.T, c clients) { f(c.b)(t, c) }
	}
	agent := func(id, name string, spaces ...string) schema.AgentPolicy {
		return schema.AgentPolicy{ID: id, Name: name, Namespace: "default", SpaceIDs: spaces}
	}
	for _, tc := range []struct {
		name  string
		setup []func(*testing.T, clients)
		doc   schema.Document
		kind  string // of the change looked at; agent_policy when ""
		id    string
		want  plan.Action
		msg   string // in the reason of a blocked change
		// bRequests is how many requests go to team-b's Fleet API while planning.
		bRequests int
	}{
		{
			// space_awareness/agent_policies.ts "should prevent creating agent
			// policy for multiple spaces with same name as policy in
			// non-current namespace" (requireUniqueName with space_ids).
			name:  "create into [own, other] clashing in other",
			setup: []func(*testing.T, clients){inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "team-a", "team-b")}},
			id:    "p", want: plan.Blocked, msg: "Kibana would refuse it (Agent Policy 'q' already exists with name 'shared')",
			bRequests: 1,
		},
		{
			name:  "create into [own, other] without a clash",
			setup: []func(*testing.T, clients){inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "other") })},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "team-a", "team-b")}},
			id:    "p", want: plan.Create, bRequests: 1,
		},
		{
			// updateAgentPolicySpaces: requireUniqueName in the new spaces
			// (services/spaces/agent_policy.ts; elastic/kibana#228746).
			name: "move into a space with a same-named agent policy",
			setup: []func(*testing.T, clients){policy(nil, "p", "shared"),
				inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "team-a", "team-b")}},
			id:  "p", want: plan.Blocked, msg: "(Agent Policy 'q' already exists with name 'shared')", bRequests: 1,
		},
		{
			// updateAgentPolicySpaces → validatePackagePoliciesUniqueNameAcrossSpaces
			// (services/spaces/policy_namespaces.ts; elastic/kibana#224804).
			name: "move a policy whose integration policy name exists in the target space",
			setup: []func(*testing.T, clients){policy(nil, "p", "p"), nginx(false, "nginx-1", "p"),
				inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }), nginx(true, "nginx-1", "q")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}},
			id:  "p", want: plan.Blocked,
			msg:       `(An integration policy with the name nginx-1 already exists in space "team-b". Please rename it or choose a different name.)`,
			bRequests: 2,
		},
		{
			name: "move without a clash",
			setup: []func(*testing.T, clients){policy(nil, "p", "p"), nginx(false, "nginx-1", "p"),
				inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }), nginx(true, "nginx-2", "q")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}},
			id:  "p", want: plan.Update, bRequests: 2,
		},
		{
			// agentPolicyService.update: requireUniqueName on a rename with the
			// policy's space_ids (services/agent_policy.ts).
			name: "rename clash in another of its spaces",
			setup: []func(*testing.T, clients){policy(nil, "p", "old", "team-a", "team-b"),
				inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "team-a", "team-b")}},
			id:  "p", want: plan.Blocked, msg: "(Agent Policy 'q' already exists with name 'shared')", bRequests: 1,
		},
		{
			// space_awareness/agent_policies.ts "should allow updating a policy
			// name to one that exists in the URL space but not in the target
			// space": the name in a space the policy is not in is free, and
			// nothing is asked of that space.
			name: "rename to a name taken only in a space the policy is not in",
			setup: []func(*testing.T, clients){policy(nil, "p", "old"),
				inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared")}},
			id:  "p", want: plan.Update, bRequests: 0,
		},
		{
			// packagePolicyService.create: requireUniqueName with the spaces
			// of its agent policies; more than one lists every space
			// (services/package_policy.ts).
			name: "integration policy created into a policy of two spaces, name taken in the other",
			setup: []func(*testing.T, clients){inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }),
				nginx(true, "web", "q")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")},
				PackagePolicies: []schema.PackagePolicy{{ID: "web", Name: "web", PolicyIDs: []string{"p"}, Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}}}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Blocked,
			msg:       "(An integration policy with the name web already exists. Please rename it or choose a different name.)",
			bRequests: 2,
		},
		{
			name:  "integration policy created into a policy of two spaces without a clash",
			setup: []func(*testing.T, clients){inB(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }), nginx(true, "web-b", "q")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")},
				PackagePolicies: []schema.PackagePolicy{{ID: "web", Name: "web", PolicyIDs: []string{"p"}, Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}}}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Create, bRequests: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t)
			for _, s := range []string{"team-a", "team-b"} {
				createSimSpace(t, h.main, s)
			}
			c := clients{spaceClient(t, h.main, "team-a", kibana.Auth{}), spaceClient(t, h.main, "team-b", kibana.Auth{})}
			for _, f := range tc.setup {
				f(t, c)
			}
			h.kb = c.a
			h.connect(func(c *Config) { c.Space = "team-a" })
			kind := cmpOr(tc.kind, plan.KindAgentPolicy)
			h.sim.ClearRequests()
			p := h.plan(&tc.doc)
			n := 0
			for _, r := range h.sim.Requests() {
				if strings.HasPrefix(r.Path, "/s/team-b/api/fleet/") {
					n++
				}
			}
			if n != tc.bRequests {
				t.Errorf("requests to team-b's Fleet: %d, want %d", n, tc.bRequests)
			}
			var ch plan.Change
			for _, x := range p.Changes {
				if x.Kind == kind && x.ID == tc.id {
					ch = x
				}
			}
			if ch.Action != tc.want || tc.msg != "" && !strings.Contains(ch.Reason, tc.msg) {
				t.Fatalf("plan: %s %s: %s %q, want %s %q (warnings %q)", kind, tc.id, ch.Action, ch.Reason, tc.want, tc.msg, p.Warnings)
			}
			// Apply agrees with the plan.
			res, err := h.r.Apply(t.Context(), &tc.doc, nil, ApplyOptions{})
			msg := fmt.Sprint(err)
			for _, o := range res.Outcomes {
				if o.Err != nil {
					msg += " " + o.Err.Error()
				}
				if o.Change.Kind == kind && o.Change.ID == tc.id && o.Change.Action != tc.want {
					t.Errorf("apply: %s %s went %s, plan said %s", kind, tc.id, o.Change.Action, tc.want)
				}
			}
			if tc.want == plan.Blocked {
				if !strings.Contains(msg, tc.msg) {
					t.Errorf("apply: %s", msg)
				}
				if strings.Contains(msg, "409") {
					t.Errorf("apply reached Kibana: %s", msg)
				}
			} else if err != nil {
				t.Errorf("apply: %s", msg)
			}
		})
	}
}

// A space the credentials may not read policies in: the plan says it could
// not check the names there, and does not guess.
func TestSim_SpaceNamesUnreadableSpaceWarns(t *testing.T) {
	h := newSimHarness(t)
	for _, s := range []string{"team-a", "team-b"} {
		createSimSpace(t, h.main, s)
	}
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{})
	h.connect(func(c *Config) { c.Space = "team-a" })
	h.r.cfg.Fleet = unreadableSpace{h.r.cfg.Fleet.(*kibana.Client), "team-b"}
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "shared", Namespace: "default", SpaceIDs: []string{"team-a", "team-b"}}}}
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Create ||
		!strings.Contains(strings.Join(p.Warnings, "\n"), `could not read the policy names of Kibana space "team-b"`) {
		t.Errorf("changes %+v warnings %q", p.Changes, p.Warnings)
	}
}

// unreadableSpace is a Fleet client whose reads of one other space's
// policies answer Kibana's 403.
type unreadableSpace struct {
	*kibana.Client
	space string
}

func (u unreadableSpace) PolicyNamesInSpace(ctx context.Context, space string, a, i []string) ([]kibana.NamedPolicy, []kibana.NamedPolicy, error) {
	if space == u.space {
		return nil, nil, &kibana.APIError{Method: "GET", Path: "/s/" + space + "/api/fleet/agent_policies", Status: 403, ErrorText: "Forbidden", Message: "security_exception"}
	}
	return u.Client.PolicyNamesInSpace(ctx, space, a, i)
}

// fleetsim follows Kibana where the plan relies on it: an integration
// policy created for an agent policy of two spaces takes its spaces
// (updatePackagePolicySpaces, elastic/kibana#197487) and its name is
// checked in every space (package_policy.ts requireUniqueName, #239631);
// a move that renames checks the new name in the new spaces (the handler
// passes the body to updateAgentPolicySpaces).
func TestSim_FleetsimSpaceNameRules(t *testing.T) {
	h := newSimHarness(t)
	for _, s := range []string{"team-a", "team-b", "team-c"} {
		createSimSpace(t, h.main, s)
	}
	ctx := t.Context()
	a, b, cc := spaceClient(t, h.main, "team-a", kibana.Auth{}), spaceClient(t, h.main, "team-b", kibana.Auth{}), spaceClient(t, h.main, "team-c", kibana.Auth{})
	mustPolicy := func(kb *kibana.Client, body map[string]any) {
		if _, err := kb.CreateAgentPolicy(ctx, body); err != nil {
			t.Fatal(err)
		}
	}
	nginx := func(name, policy string) map[string]any {
		return map[string]any{"name": name, "namespace": "default", "policy_ids": []any{policy}, "package": map[string]any{"name": "nginx", "version": "2.1.0"}}
	}
	mustPolicy(a, map[string]any{"id": "p", "name": "p", "namespace": "default", "space_ids": []any{"team-a", "team-b"}})
	mustPolicy(cc, map[string]any{"id": "r", "name": "r", "namespace": "default"})
	if _, err := cc.CreateIntegrationPolicy(ctx, nginx("web", "r")); err != nil {
		t.Fatal(err)
	}
	// Any space, even one p is not in (create lists every space).
	if _, err := a.CreateIntegrationPolicy(ctx, nginx("web", "p")); kibana.StatusCode(err) != 409 ||
		!strings.Contains(err.Error(), "An integration policy with the name web already exists. Please rename it or choose a different name.") {
		t.Errorf("create web into p: %v", err)
	}
	ip, err := a.CreateIntegrationPolicy(ctx, nginx("api", "p"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetIntegrationPolicy(ctx, ip.ID); err != nil {
		t.Errorf("integration policy of a two-space agent policy, from team-b: %v", err)
	}
	// A move that renames: the old name taken in the new space is no clash.
	mustPolicy(cc, map[string]any{"id": "s", "name": "old", "namespace": "default"})
	mustPolicy(a, map[string]any{"id": "t", "name": "old", "namespace": "default"})
	if _, err := a.UpdateAgentPolicy(ctx, "t", map[string]any{"name": "new", "namespace": "default", "space_ids": []any{"team-a", "team-c"}}); err != nil {
		t.Errorf("move and rename: %v", err)
	}
}
