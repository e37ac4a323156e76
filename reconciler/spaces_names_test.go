package reconciler

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim/esim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// A name taken in another space the change goes to: Kibana's 409 becomes a
// blocked change with Kibana's message, and apply does what the plan says
// (spaces_names.go; elastic/kibana#239631). The repository's space is
// team-a; team-b is another.
func TestSim_SpaceNamesAcrossSpaces(t *testing.T) {
	type clients struct{ a, b, c *kibana.Client }
	// in picks the client of a space (team-a when nil).
	type in func(clients) *kibana.Client
	var (
		inA in = func(c clients) *kibana.Client { return c.a }
		inB in = func(c clients) *kibana.Client { return c.b }
		inC in = func(c clients) *kibana.Client { return c.c }
	)
	policyIn := func(sp in, id, name string, spaces ...string) func(*testing.T, clients) {
		return func(t *testing.T, c clients) {
			body := map[string]any{"id": id, "name": name, "namespace": "default"}
			if len(spaces) > 0 {
				body["space_ids"] = spaces
			}
			if _, err := sp(c).CreateAgentPolicy(t.Context(), body); err != nil {
				t.Fatal(err)
			}
		}
	}
	moveIn := func(sp in, id, name string, spaces ...string) func(*testing.T, clients) {
		return func(t *testing.T, c clients) {
			if _, err := sp(c).UpdateAgentPolicy(t.Context(), id, map[string]any{"name": name, "namespace": "default", "space_ids": spaces}); err != nil {
				t.Fatal(err)
			}
		}
	}
	nginxIn := func(sp in, id, name, agentPolicy string) func(*testing.T, clients) {
		return func(t *testing.T, c clients) {
			body := map[string]any{"name": name, "namespace": "default", "policy_ids": []any{agentPolicy},
				"package": map[string]any{"name": "nginx", "version": "2.1.0"}}
			if id != "" {
				body["id"] = id
			}
			if _, err := sp(c).CreateIntegrationPolicy(t.Context(), body); err != nil {
				t.Fatal(err)
			}
		}
	}
	policy := func(kb *kibana.Client, id, name string, spaces ...string) func(*testing.T, clients) {
		if kb == nil {
			return policyIn(inA, id, name, spaces...)
		}
		return policyIn(func(clients) *kibana.Client { return kb }, id, name, spaces...)
	}
	nginx := func(inB bool, name, agentPolicy string) func(*testing.T, clients) {
		if inB {
			return nginxIn(func(c clients) *kibana.Client { return c.b }, "", name, agentPolicy)
		}
		return nginxIn(inA, "", name, agentPolicy)
	}
	inBf := func(f func(*kibana.Client) func(*testing.T, clients)) func(*testing.T, clients) {
		return func(t *testing.T, c clients) { f(c.b)(t, c) }
	}
	agent := func(id, name string, spaces ...string) schema.AgentPolicy {
		return schema.AgentPolicy{ID: id, Name: name, Namespace: "default", SpaceIDs: spaces}
	}
	web := func(id, name string, policyIDs ...string) schema.PackagePolicy {
		return schema.PackagePolicy{ID: id, Name: name, Namespace: "default", PolicyIDs: policyIDs, Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}}
	}
	for _, tc := range []struct {
		name  string
		setup []func(*testing.T, clients)
		doc   schema.Document
		kind  string // of the change looked at; agent_policy when ""
		id    string
		want  plan.Action
		msg   string // in the reason of a blocked change
		// bRequests is how many requests go to team-b's Fleet API while
		// planning; asks, when given, how many go to the others' (default,
		// team-c) and to GET /api/spaces/space ("list").
		bRequests int
		asks      map[string]int
		warning   string // in the plan's warnings
	}{
		{
			// space_awareness/agent_policies.ts "should prevent creating agent
			// policy for multiple spaces with same name as policy in
			// non-current namespace" (requireUniqueName with space_ids).
			name:  "create into [own, other] clashing in other",
			setup: []func(*testing.T, clients){inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "team-a", "team-b")}},
			id:    "p", want: plan.Blocked, msg: "Kibana would refuse it (Agent Policy 'q' already exists with name 'shared')",
			bRequests: 1, asks: map[string]int{"list": 0, "team-c": 0, "default": 0},
		},
		{
			name:  "create into [own, other] without a clash",
			setup: []func(*testing.T, clients){inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "other") })},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "team-a", "team-b")}},
			id:    "p", want: plan.Create, bRequests: 1,
		},
		{
			// updateAgentPolicySpaces: requireUniqueName in the new spaces
			// (services/spaces/agent_policy.ts; elastic/kibana#228746).
			name: "move into a space with a same-named agent policy",
			setup: []func(*testing.T, clients){policy(nil, "p", "shared"),
				inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "team-a", "team-b")}},
			id:  "p", want: plan.Blocked, msg: "(Agent Policy 'q' already exists with name 'shared')", bRequests: 1,
		},
		{
			// updateAgentPolicySpaces → validatePackagePoliciesUniqueNameAcrossSpaces
			// (services/spaces/policy_namespaces.ts; elastic/kibana#224804).
			name: "move a policy whose integration policy name exists in the target space",
			setup: []func(*testing.T, clients){policy(nil, "p", "p"), nginx(false, "nginx-1", "p"),
				inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }), nginx(true, "nginx-1", "q")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}},
			id:  "p", want: plan.Blocked,
			msg:       `(An integration policy with the name nginx-1 already exists in space "team-b". Please rename it or choose a different name.)`,
			bRequests: 2,
		},
		{
			name: "move without a clash",
			setup: []func(*testing.T, clients){policy(nil, "p", "p"), nginx(false, "nginx-1", "p"),
				inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }), nginx(true, "nginx-2", "q")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}},
			id:  "p", want: plan.Update, bRequests: 2,
		},
		{
			// agentPolicyService.update: requireUniqueName on a rename with the
			// policy's space_ids (services/agent_policy.ts).
			name: "rename clash in another of its spaces",
			setup: []func(*testing.T, clients){policy(nil, "p", "old", "team-a", "team-b"),
				inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
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
				inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "shared") })},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared")}},
			id:  "p", want: plan.Update, bRequests: 0, asks: map[string]int{"list": 0, "team-c": 0, "default": 0},
		},
		// agent_policy.ts requireUniqueName with "*" among space_ids: an
		// unscoped find with namespaces ["*"] is every space.
		{
			name:  "agent policy created into * clashing in another space",
			setup: []func(*testing.T, clients){policyIn(inC, "q", "shared")},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "*")}},
			id:    "p", want: plan.Blocked, msg: `taken in Kibana space "team-c", where it goes; Kibana would refuse it (Agent Policy 'q' already exists with name 'shared')`,
			bRequests: 1, asks: map[string]int{"list": 1, "team-c": 1, "default": 1},
			warning: `agent policy p: space_ids holds "*" (every space)`,
		},
		{
			name:  "agent policy created into * without a clash",
			setup: []func(*testing.T, clients){policyIn(inC, "q", "other")},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "shared", "*")}},
			id:    "p", want: plan.Create, bRequests: 1, asks: map[string]int{"list": 1, "team-c": 1, "default": 1},
		},
		{
			// validatePackagePoliciesUniqueNameAcrossSpaces compares the
			// spaces literally: web of r, moved to "*" from team-b (where
			// team-a's web was not seen), clashes with a move into "*".
			name: "move to * a policy whose integration policy is named as one in *",
			setup: []func(*testing.T, clients){policy(nil, "p", "p"), nginx(false, "web", "p"),
				policyIn(inB, "r", "r"), nginxIn(inB, "", "web", "r"), moveIn(inB, "r", "r", "*")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "*")}},
			id:  "p", want: plan.Blocked,
			msg:       `(An integration policy with the name web already exists in space "*". Please rename it or choose a different name.)`,
			bRequests: 2, asks: map[string]int{"list": 1},
		},
		{
			name: "move to * a policy whose integration policy is named as one in another space",
			setup: []func(*testing.T, clients){policy(nil, "p", "p"), nginx(false, "web", "p"),
				policyIn(inB, "r", "r"), nginxIn(inB, "", "web", "r")},
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "*")}},
			id:  "p", want: plan.Update, bRequests: 2, asks: map[string]int{"list": 1},
		},
		// package_policy.ts create: requireUniqueName with the agent
		// policies' space_ids, flattened; more than one lists every space
		// and any policy of that name refuses.
		{
			// space_awareness/package_policies.ts "should not allow to add a
			// package policy to a multispace policy that has name conflict
			// with another policy in a different space".
			name: "integration policy created into a policy of two spaces, name taken in the other",
			setup: []func(*testing.T, clients){inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }),
				nginx(true, "web", "q")},
			doc:  schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}, PackagePolicies: []schema.PackagePolicy{web("web", "web", "p")}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Blocked,
			msg:       "(An integration policy with the name web already exists. Please rename it or choose a different name.)",
			bRequests: 2,
		},
		{
			name:  "integration policy created into a policy of two spaces without a clash",
			setup: []func(*testing.T, clients){inBf(func(b *kibana.Client) func(*testing.T, clients) { return policy(b, "q", "q") }), nginx(true, "web-b", "q")},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}, PackagePolicies: []schema.PackagePolicy{web("web", "web", "p")}},
			kind:  KindIntegrationPolicy, id: "web", want: plan.Create, bRequests: 2,
			asks: map[string]int{"list": 1, "team-c": 1, "default": 1},
		},
		{
			name:  "integration policy created into a policy of two spaces, name only in a third space",
			setup: []func(*testing.T, clients){policyIn(inC, "r", "r"), nginxIn(inC, "", "web", "r")},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}, PackagePolicies: []schema.PackagePolicy{web("web", "web", "p")}},
			kind:  KindIntegrationPolicy, id: "web", want: plan.Blocked,
			msg:       `in Kibana space "team-c" already has the name "web", and its agent policies are in spaces "team-a", "team-b", so Kibana looks in every space; Kibana would refuse it (An integration policy with the name web already exists. Please rename it or choose a different name.)`,
			bRequests: 2, asks: map[string]int{"list": 1, "team-c": 1, "default": 1},
		},
		{
			// Two agent policies of the repository's space: space_ids
			// flattened are two ("team-a", "team-a"), so Kibana lists every
			// space.
			name:  "reusable integration policy of two policies of this space, name in another space",
			setup: []func(*testing.T, clients){policyIn(inB, "q", "q"), nginxIn(inB, "", "web", "q")},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p1", "p1"), agent("p2", "p2")}, PackagePolicies: []schema.PackagePolicy{web("web", "web", "p1", "p2")}},
			kind:  KindIntegrationPolicy, id: "web", want: plan.Blocked,
			msg:       "(An integration policy with the name web already exists. Please rename it or choose a different name.)",
			bRequests: 1, asks: map[string]int{"list": 1},
		},
		{
			// One space, "*": only the request's space is looked at.
			// space_awareness/package_policies.ts "should allow to add a
			// package policy to an all agent policy in the default space".
			name:  "integration policy created into an all-spaces policy, name only in another space",
			setup: []func(*testing.T, clients){policyIn(inB, "q", "q"), nginxIn(inB, "", "web", "q")},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "*")}, PackagePolicies: []schema.PackagePolicy{web("web", "web", "p")}},
			kind:  KindIntegrationPolicy, id: "web", want: plan.Create,
			bRequests: 1, // the agent policy's name, in every space
		},
		{
			// validateReusableIntegrationsAndSpaceAwareness
			// (services/package_policy.ts): space_awareness/package_policies.ts
			// "should not allow to add a reusable package policy to a
			// multi-space agent policy in the default space".
			name: "reusable integration policy with a policy of two spaces",
			doc: schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b"), agent("d", "d")},
				PackagePolicies: []schema.PackagePolicy{web("web", "web", "p", "d")}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Blocked,
			msg:       "(Reusable integration policies cannot be used with agent policies belonging to multiple spaces.)",
			bRequests: 1, // p's name
		},
		// package_policy.ts update: a rename into agent policies of several
		// spaces is refused by a policy sharing one of them, literally
		// (elastic/kibana#239631).
		{
			// space_awareness/package_policies.ts "should prevent updating
			// package policy name already in multiple spaces when name
			// conflicts exist".
			name: "rename in a policy of two spaces to a name in the other",
			setup: []func(*testing.T, clients){policy(nil, "p", "p", "team-a", "team-b"), nginxIn(inA, "web", "web-old", "p"),
				policyIn(inB, "q", "q"), nginxIn(inB, "", "web-new", "q")},
			doc:  schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}, PackagePolicies: []schema.PackagePolicy{web("web", "web-new", "p")}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Blocked,
			msg:       "(An integration policy with the name web-new already exists. Please rename it or choose a different name.)",
			bRequests: 1, asks: map[string]int{"list": 1, "team-c": 1, "default": 1},
		},
		{
			name: "rename in a policy of two spaces to a name only in a third space",
			setup: []func(*testing.T, clients){policy(nil, "p", "p", "team-a", "team-b"), nginxIn(inA, "web", "web-old", "p"),
				policyIn(inC, "r", "r"), nginxIn(inC, "", "web-new", "r")},
			doc:  schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}, PackagePolicies: []schema.PackagePolicy{web("web", "web-new", "p")}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Update,
			bRequests: 1, asks: map[string]int{"list": 1, "team-c": 1},
		},
		{
			// One in "*" shares no space with [team-a, team-b], though
			// team-a sees it.
			name: "rename in a policy of two spaces to the name of one in *",
			setup: []func(*testing.T, clients){policy(nil, "p", "p", "team-a", "team-b"), nginxIn(inA, "web", "web-old", "p"),
				policy(nil, "all", "all", "*"), nginxIn(inA, "", "web-new", "all")},
			doc:  schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}, PackagePolicies: []schema.PackagePolicy{web("web", "web-new", "p")}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Update, bRequests: 1,
		},
		{
			// One space: the request's space, which holds the one in "*".
			name: "rename in a policy of this space to the name of one in *",
			setup: []func(*testing.T, clients){policy(nil, "p", "p"), nginxIn(inA, "web", "web-old", "p"),
				policy(nil, "all", "all", "*"), nginxIn(inA, "", "web-new", "all")},
			doc:  schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p")}, PackagePolicies: []schema.PackagePolicy{web("web", "web-new", "p")}},
			kind: KindIntegrationPolicy, id: "web", want: plan.Blocked,
			msg:       "(An integration policy with the name web-new already exists. Please rename it or choose a different name.)",
			bRequests: 0, asks: map[string]int{"list": 0},
		},
		{
			// Converged: nothing is created, renamed or moved, so nothing is
			// asked of another space.
			name:  "converged policy of two spaces and its integration policy",
			setup: []func(*testing.T, clients){policy(nil, "p", "p", "team-a", "team-b"), nginxIn(inA, "web", "web", "p")},
			doc:   schema.Document{AgentPolicies: []schema.AgentPolicy{agent("p", "p", "team-a", "team-b")}, PackagePolicies: []schema.PackagePolicy{web("web", "web", "p")}},
			kind:  KindIntegrationPolicy, id: "web", want: plan.NoOp,
			bRequests: 0, asks: map[string]int{"list": 0, "team-c": 0, "default": 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t)
			for _, s := range []string{"team-a", "team-b", "team-c"} {
				createSimSpace(t, h.main, s)
			}
			c := clients{spaceClient(t, h.main, "team-a", kibana.Auth{}), spaceClient(t, h.main, "team-b", kibana.Auth{}), spaceClient(t, h.main, "team-c", kibana.Auth{})}
			for _, f := range tc.setup {
				f(t, c)
			}
			h.kb = c.a
			h.connect(func(c *Config) { c.Space = "team-a" })
			kind := cmpOr(tc.kind, plan.KindAgentPolicy)
			h.sim.ClearRequests()
			p := h.plan(&tc.doc)
			asked := map[string]int{}
			for _, r := range h.sim.Requests() {
				switch {
				case r.Method == "GET" && r.Path == "/api/spaces/space":
					asked["list"]++
				case strings.HasPrefix(r.Path, "/api/fleet/"):
					asked["default"]++
				case strings.HasPrefix(r.Path, "/s/team-b/api/fleet/"):
					asked["team-b"]++
				case strings.HasPrefix(r.Path, "/s/team-c/api/fleet/"):
					asked["team-c"]++
				}
			}
			if asked["team-b"] != tc.bRequests {
				t.Errorf("requests to team-b's Fleet: %d, want %d", asked["team-b"], tc.bRequests)
			}
			for k, n := range tc.asks {
				if asked[k] != n {
					t.Errorf("requests to %s: %d, want %d", k, asked[k], n)
				}
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
			if tc.warning != "" && !strings.Contains(strings.Join(p.Warnings, "\n"), tc.warning) {
				t.Errorf("warnings %q, want %q", p.Warnings, tc.warning)
			}
			// Apply agrees with the plan, and writes nothing of a blocked object.
			h.sim.ClearRequests()
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
				if status409.MatchString(msg) {
					t.Errorf("apply reached Kibana: %s", msg)
				}
				for _, w := range h.writes() {
					if strings.HasSuffix(w, "/"+tc.id) || kind == KindIntegrationPolicy && strings.HasPrefix(w, "POST") && strings.HasSuffix(w, "/package_policies") ||
						kind == plan.KindAgentPolicy && strings.HasPrefix(w, "POST") && strings.HasSuffix(w, "/agent_policies") {
						t.Errorf("apply wrote the blocked %s %s: %s", kind, tc.id, w)
					}
				}
			} else if err != nil {
				t.Errorf("apply: %s", msg)
			}
		})
	}
}

// status409 finds a 409 in an error (not in a uuid).
var status409 = regexp.MustCompile(`\b409\b`)

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

// A create into "*" by credentials of named spaces only: Kibana checks
// fleet-agent-policies-all at "*" (getAuthorizedSpacesWithAgentPoliciesAllPrivileges,
// server/routes/agent_policy/handlers.ts), which fleetform cannot see; the
// plan says so, and apply meets Kibana's 400.
func TestSim_AllSpacesPrivilegeIsWarned(t *testing.T) {
	h := newSimHarness(t)
	for _, s := range []string{"team-a", "team-b"} {
		createSimSpace(t, h.main, s)
	}
	key, err := h.main.ES().CreateAPIKey(esim.Principal{Username: "elastic", Superuser: true}, esim.APIKeyRequest{Name: "two-spaces",
		RoleDescriptors: map[string]esim.RoleDescriptor{"r": {Applications: []esim.ApplicationPrivilege{{Application: "kibana-.kibana",
			Privileges: []string{"feature_fleetv2.all", "feature_fleet.all"}, Resources: []string{"space:team-a", "space:team-b", "space:default"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{APIKey: secret.New(key.Encoded)})
	h.connect(func(c *Config) { c.Space = "team-a" })
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "P", Namespace: "default", SpaceIDs: []string{"*"}}}}
	p := h.plan(doc)
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, `agent policy p: space_ids holds "*" (every space)`) ||
		!strings.Contains(w, `("No enough permissions to create policies in space *")`) {
		t.Errorf("warnings %q", p.Warnings)
	}
	if _, err := h.r.Apply(t.Context(), doc, nil, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "No enough permissions to create policies in space *") {
		t.Errorf("apply: %v", err)
	}
	// A superuser may: no refusal, the same warning.
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{})
	h.connect(func(c *Config) { c.Space = "team-a" })
	if res := h.apply(doc); len(res.Outcomes) == 0 {
		t.Errorf("apply as superuser: %+v", res)
	}
}

// When the spaces cannot be listed, the plan says the names were not
// checked in every space, and still asks the spaces it knows.
func TestSim_SpaceNamesUnlistedSpacesWarn(t *testing.T) {
	h := newSimHarness(t)
	for _, s := range []string{"team-a", "team-b"} {
		createSimSpace(t, h.main, s)
	}
	h.kb = spaceClient(t, h.main, "team-a", kibana.Auth{})
	h.connect(func(c *Config) { c.Space = "team-a" })
	h.r.cfg.Fleet = unlistedSpaces{h.r.cfg.Fleet.(*kibana.Client)}
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "p", Name: "p", Namespace: "default", SpaceIDs: []string{"team-a", "team-b"}}},
		PackagePolicies: []schema.PackagePolicy{{ID: "web", Name: "web", Namespace: "default", PolicyIDs: []string{"p"}, Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}}}}
	h.sim.ClearRequests()
	p := h.plan(doc)
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "could not list Kibana's spaces to check the plan's names in every space") {
		t.Errorf("warnings %q", p.Warnings)
	}
	n := 0
	for _, r := range h.sim.Requests() {
		if strings.HasPrefix(r.Path, "/s/team-b/api/fleet/package_policies") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("integration policy names asked of team-b: %d, want 1", n)
	}
}

// unlistedSpaces is a Fleet client whose spaces list answers Kibana's 403.
type unlistedSpaces struct{ *kibana.Client }

func (unlistedSpaces) ListSpaceIDs(context.Context) ([]string, error) {
	return nil, &kibana.APIError{Method: "GET", Path: "/api/spaces/space", Status: 403, ErrorText: "Forbidden", Message: "Forbidden"}
}
