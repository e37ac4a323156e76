package kibana_test

import (
	"context"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// TestFleetsim_CountAgentsByPolicy: CountAgentsByPolicy pages GET
// /api/fleet/agents 1000 agents at a time and counts them by policy_id; a
// kuery that matches nothing costs one request; past SO_SEARCH_LIMIT
// (page * perPage ≤ 10000, types/rest_spec/agent.ts) it stops and says the
// count is incomplete; CountAgents asks perPage=0 for a total.
func TestFleetsim_CountAgentsByPolicy(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{}, fleetsim.ClusterConfig{Name: "main", Version: "8.13.4"})
	seed := &fleetsim.ClusterSeed{AgentPolicies: []fleetsim.SeedAgentPolicy{
		{ID: "a", Name: "A", Namespace: "default", Agents: 5, InactiveAgents: 1500},
		{ID: "b", Name: "B", Namespace: "default", UnenrolledAgents: 700},
		{ID: "big", Name: "Big", Namespace: "default", InactiveAgents: 10500},
		{ID: "none", Name: "None", Namespace: "default", Agents: 3},
	}}
	if err := sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	c := simClient(t, sim, "main", &waits{})
	ctx := context.Background()
	cases := []struct {
		kuery    string
		want     map[string]int
		complete bool
		requests int
	}{
		{`(policy_id:"a" or policy_id:"b" or policy_id:"none") and (status:inactive or status:unenrolled)`, map[string]int{"a": 1500, "b": 700}, true, 3},
		{`policy_id:"none" and status:inactive`, map[string]int{}, true, 1},
		{`policy_id:"big" and status:inactive`, map[string]int{"big": 10000}, false, 10},
	}
	for _, tc := range cases {
		sim.ClearRequests()
		got, err := c.CountAgentsByPolicy(ctx, tc.kuery, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.ByPolicy) != len(tc.want) || got.Complete != tc.complete {
			t.Errorf("%s: %v complete %v, want %v complete %v", tc.kuery, got.ByPolicy, got.Complete, tc.want, tc.complete)
		}
		for k, v := range tc.want {
			if got.ByPolicy[k] != v {
				t.Errorf("%s: %s = %d, want %d", tc.kuery, k, got.ByPolicy[k], v)
			}
		}
		if reqs := kibanaRequests(sim); len(reqs) != tc.requests {
			t.Errorf("%s: %d requests, want %d", tc.kuery, len(reqs), tc.requests)
		}
	}
	if n, err := c.CountAgents(ctx, `policy_id:"big" and status:inactive`, true); err != nil || n != 10500 {
		t.Errorf("CountAgents = %d, %v; want 10500", n, err)
	}
}
