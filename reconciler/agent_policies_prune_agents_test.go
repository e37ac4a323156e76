package reconciler

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestAgentPolicyPrune_AgentsByVersionAndStatus: the plan blocks the prune
// of an owned agent policy exactly when Kibana's delete at that version
// refuses it for its agents (agent_policies_prune_agents.go:
// services/agent_policy.ts delete counts online agents before 8.12.2,
// elastic/kibana#175815 adds inactive and — until 8.14.0, elastic/kibana#182118
// — unenrolled ones), with that version's message, although the agent
// policy list counts inactive agents only from 8.15.0 (elastic/kibana#184517,
// #187960); and apply --prune agrees with the plan against fleetsim: a
// planned delete is applied, a blocked one stays blocked, nothing fails.
func TestAgentPolicyPrune_AgentsByVersionAndStatus(t *testing.T) {
	type mix struct{ online, inactive, unenrolled int }
	mixes := []struct {
		name string
		mix
	}{{"none", mix{}}, {"only inactive", mix{0, 2, 0}}, {"only unenrolled", mix{0, 0, 3}}, {"online", mix{1, 0, 0}}, {"online and inactive", mix{1, 2, 0}}}
	const (
		old = "Cannot delete agent policy that is assigned to agent(s)"
		now = "Cannot delete an agent policy that is assigned to any active or inactive agents"
	)
	// want is the refusal for a version and mix, "" for a delete; count is
	// the agents the reason names.
	want := func(version string, m mix) (msg string, count int) {
		switch {
		case version == "8.12.1":
			return old, m.online
		case version == "8.13.4":
			return now, m.online + m.inactive + m.unenrolled
		}
		return now, m.online + m.inactive
	}
	for _, version := range []string{"8.12.1", "8.13.4", "8.14.3", "8.15.0", "8.16.0", "9.1.0", "9.3.0"} {
		for _, m := range mixes {
			t.Run(version+"/"+m.name, func(t *testing.T) {
				h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: version})
				h.seedPolicies(fleetsim.SeedAgentPolicy{ID: "busy", Name: "Busy", Namespace: "default", Agents: m.online, InactiveAgents: m.inactive, UnenrolledAgents: m.unenrolled})
				if got := h.own(&schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "busy", Name: "Busy", Namespace: "default"}}}); len(got) != 1 {
					t.Fatalf("import --adopt recorded %v", got)
				}
				h.connect(func(c *Config) { c.Prune = true })
				c := change(t, h.plan(&schema.Document{}), plan.KindAgentPolicy, "busy")
				msg, n := want(version, m.mix)
				if n == 0 {
					if c.Action != plan.Delete {
						t.Fatalf("plan: want a delete: %s: %s", c.Action, c.Reason)
					}
				} else if c.Action != plan.Blocked || !strings.Contains(c.Reason, msg) || !strings.Contains(c.Reason, fmt.Sprintf("but %d agent%s assigned", n, plural(n))) {
					t.Fatalf("plan: want blocked, %d agents, %q: %s: %s", n, msg, c.Action, c.Reason)
				}
				res, _ := h.r.Apply(context.Background(), &schema.Document{}, nil, ApplyOptions{Prune: true})
				var status string
				for _, o := range res.Outcomes {
					if o.Change.Kind == plan.KindAgentPolicy && o.Change.ID == "busy" {
						status = o.Status
						if o.Status == StatusFailed {
							t.Errorf("apply --prune failed where the plan said %s: %v", c.Action, o.Err)
						}
					}
				}
				_, getErr := h.kb.GetAgentPolicy(context.Background(), "busy")
				if n == 0 && (status != StatusApplied || getErr == nil) {
					t.Errorf("apply --prune of a planned delete: %q, policy still there: %v", status, getErr == nil)
				}
				if n > 0 && (status != StatusBlocked || getErr != nil) {
					t.Errorf("apply --prune of a blocked delete: %q, policy gone: %v", status, getErr)
				}
			})
		}
	}
}

// TestAgentPolicyPrune_DeleteOnlyAgentsRequestBudget: on Kibana 8.12.2 –
// 8.14.x the prune also reads the agents delete counts and the list does
// not — one GET /api/fleet/agents per 50 candidates, naming them and those
// statuses (with unenrolled until 8.14.0) —, on other versions never, and
// with nothing to prune on none.
func TestAgentPolicyPrune_DeleteOnlyAgentsRequestBudget(t *testing.T) {
	cases := []struct {
		version  string
		statuses string // "" when no agent request is sent
	}{
		{"8.12.1", ""},
		{"8.13.4", "(status:inactive or status:unenrolled)"},
		{"8.14.3", "(status:inactive)"},
		{"8.15.0", ""},
		{"9.1.0", ""},
	}
	for _, tc := range cases {
		t.Run(tc.version, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: tc.version})
			var seeds []fleetsim.SeedAgentPolicy
			doc := &schema.Document{}
			for i := range 60 {
				id := fmt.Sprintf("p%02d", i)
				seeds = append(seeds, fleetsim.SeedAgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default", InactiveAgents: i % 3})
				doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default"})
			}
			h.seedPolicies(seeds...)
			if got := h.own(doc); len(got) != 60 {
				t.Fatalf("import --adopt recorded %d policies", len(got))
			}
			h.connect(func(c *Config) { c.Prune = true })
			h.sim.ClearRequests()
			h.plan(doc)
			if got := agentRequests(h.sim.Requests()); len(got) != 0 {
				t.Errorf("nothing to prune, yet agent requests %q", got)
			}
			h.sim.ClearRequests()
			p := h.plan(&schema.Document{})
			got := agentRequests(h.sim.Requests())
			if tc.statuses == "" {
				if len(got) != 0 {
					t.Errorf("agent requests %q, want none", got)
				}
				return
			}
			if len(got) != 2 || !strings.HasPrefix(got[0], `(policy_id:"p`) || !strings.HasSuffix(got[0], ") and "+tc.statuses) {
				t.Errorf("agent requests %q, want two ending %q", got, tc.statuses)
			}
			blocked := 0
			for _, c := range p.Changes {
				if c.Kind == plan.KindAgentPolicy && c.Action == plan.Blocked {
					blocked++
				}
			}
			if blocked != 40 {
				t.Errorf("%d prunes blocked, want the 40 policies with inactive agents", blocked)
			}
		})
	}
}

// agentRequests are the kueries of the GET /api/fleet/agents requests in a
// request log.
func agentRequests(reqs []fleetsim.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Path == "/api/fleet/agents" {
			q, _ := url.ParseQuery(r.Query)
			out = append(out, q.Get("kuery"))
		}
	}
	return out
}

// TestAgentPolicyPrune_DeleteOnlyAgentsPastTheSearchLimit: when more
// inactive agents match than GET /api/fleet/agents lets a kuery page
// through (10000, SO_SEARCH_LIMIT), each candidate is counted on its own
// (perPage=0), so the plan's counts stay Kibana's and a policy the pages
// never reached is not taken for empty.
func TestAgentPolicyPrune_DeleteOnlyAgentsPastTheSearchLimit(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: "8.14.3"})
	h.seedPolicies(
		fleetsim.SeedAgentPolicy{ID: "big", Name: "Big", Namespace: "default", InactiveAgents: 10500},
		fleetsim.SeedAgentPolicy{ID: "small", Name: "Small", Namespace: "default", InactiveAgents: 1},
		fleetsim.SeedAgentPolicy{ID: "empty", Name: "Empty", Namespace: "default"},
	)
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "big", Name: "Big", Namespace: "default"}, {ID: "small", Name: "Small", Namespace: "default"}, {ID: "empty", Name: "Empty", Namespace: "default"}}}
	if got := h.own(doc); len(got) != 3 {
		t.Fatalf("import --adopt recorded %v", got)
	}
	h.connect(func(c *Config) { c.Prune = true })
	p := h.plan(&schema.Document{})
	for id, want := range map[string]string{"big": "but 10500 agents assigned", "small": "but 1 agent assigned", "empty": ""} {
		c := change(t, p, plan.KindAgentPolicy, id)
		if want == "" && c.Action != plan.Delete || want != "" && (c.Action != plan.Blocked || !strings.Contains(c.Reason, want)) {
			t.Errorf("%s: %s: %s; want %q", id, c.Action, c.Reason, want)
		}
	}
}
