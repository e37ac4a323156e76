package remote

import (
	"slices"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// dependsOn reports whether ch depends on key, directly or through other
// changes of p.
func dependsOn(p *plan.Plan, ch plan.Change, key string) bool {
	seen := map[string]bool{}
	var walk func(c plan.Change) bool
	walk = func(c plan.Change) bool {
		for _, d := range c.DependsOn {
			if d == key {
				return true
			}
			if seen[d] {
				continue
			}
			seen[d] = true
			if i := slices.IndexFunc(p.Changes, func(x plan.Change) bool { return x.Key() == d }); i >= 0 && walk(p.Changes[i]) {
				return true
			}
		}
		return false
	}
	return walk(ch)
}

// checkOutcomesAddUp asserts that apply reported each change of its plan
// exactly once, with a status, and nothing else: applied + failed +
// skipped + blocked = the plan's changes.
func checkOutcomesAddUp(t *testing.T, p *plan.Plan, res reconciler.Result) {
	t.Helper()
	planned := map[string]bool{}
	for _, ch := range p.Changes {
		planned[ch.Key()] = true
	}
	seen := map[string]int{}
	counts := map[string]int{}
	for _, o := range res.Outcomes {
		seen[o.Change.Key()]++
		counts[o.Status]++
		if !planned[o.Change.Key()] {
			t.Errorf("apply reported %s %s, which the plan does not have", o.Status, o.Change.Key())
		}
	}
	for k := range planned {
		if seen[k] != 1 {
			t.Errorf("apply reported %s %d times, want once", k, seen[k])
		}
	}
	sum := counts[reconciler.StatusApplied] + counts[reconciler.StatusFailed] + counts[reconciler.StatusSkipped] + counts[reconciler.StatusBlocked]
	if sum != len(p.Changes) || sum != len(res.Outcomes) {
		t.Errorf("applied %d + failed %d + skipped %d + blocked %d = %d; the plan has %d changes, the result %d outcomes",
			counts[reconciler.StatusApplied], counts[reconciler.StatusFailed], counts[reconciler.StatusSkipped], counts[reconciler.StatusBlocked],
			sum, len(p.Changes), len(res.Outcomes))
	}
}

// TestTwoCluster_MainOutputCreateFails: Kibana answers the main output's
// create with a 500. Every change that depends on it — on the remote the
// minted credentials and the follower — is reported skipped (not failed,
// and nothing of it is written on the remote after the failure), the
// outcomes add up to the plan, and once Kibana answers again a re-apply
// converges with one credential of each kind on the remote.
func TestTwoCluster_MainOutputCreateFails(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	ctx := t.Context()
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	mainOut := plan.Key("main", plan.KindOutput, "remote-west")
	// The credentials are minted while the main output is applied (the
	// plan says so); the follower needs the leader index Kibana creates
	// for it: all three depend on it.
	var dependents []string
	for _, ch := range p.Changes {
		if ch.Cluster == "west" && (ch.Kind == KindServiceToken || ch.Kind == KindAPIKey || ch.Kind == KindFollower) || dependsOn(p, ch, mainOut) {
			dependents = append(dependents, ch.Key())
		}
	}
	if len(dependents) < 3 {
		t.Fatalf("setup: want the credentials and the follower in the plan:\n%s", planText(p))
	}

	if err := env.sim.AddFault(simhttp.Fault{Cluster: "main", Method: "POST", PathPattern: "/api/fleet/outputs", Status: 500}); err != nil {
		t.Fatal(err)
	}
	env.sim.ClearRequests()
	log := &progressLog{}
	o := applyOpts()
	o.Progress = log.report
	res, err := tc.Apply(ctx, env.doc, nil, o)
	if err == nil {
		t.Fatal("apply with a failing main output create converged")
	}
	checkOutcomesAddUp(t, p, res)
	checkAppliedInPlanOrder(t, "apply", p, log)
	for _, o := range res.Outcomes {
		switch {
		case o.Change.Key() == mainOut:
			if o.Status != reconciler.StatusFailed {
				t.Errorf("%s: %s, want failed", mainOut, o.Status)
			}
		case slices.Contains(dependents, o.Change.Key()):
			if o.Status != reconciler.StatusSkipped {
				t.Errorf("%s, which depends on %s: %s (%v), want skipped", o.Change.Key(), mainOut, o.Status, o.Err)
			}
		}
	}
	// A minted credential's step starts to revoke what was minted for the
	// failed output (the rotation's roll-back); nothing else starts.
	for _, ev := range log.events {
		for _, d := range dependents {
			if ch, _ := findChangeKey(p, d); ch.Kind != KindServiceToken && ch.Kind != KindAPIKey && ev == reconciler.StatusStarted+" "+d {
				t.Errorf("%s was started although %s failed", d, mainOut)
			}
		}
	}
	// Nothing is written on west after the main output's create failed
	// but the rotation's roll-back of what was minted for it.
	rs := env.sim.Requests()
	failedAt := slices.IndexFunc(rs, func(r fleetsim.Request) bool {
		return r.Cluster == "main" && r.Method == "POST" && r.Path == "/api/fleet/outputs"
	})
	if failedAt < 0 {
		t.Fatal("no main output create in the request log")
	}
	for _, r := range rs[failedAt:] {
		if r.Cluster == "west" && r.Method == "PUT" && r.Path == "/"+FollowerIndexName("remote-west")+"/_ccr/follow" {
			t.Errorf("the follower was created after the main output's create failed")
		}
	}

	if s := env.snapshot(t, "west"); len(s.tokens) != 0 || len(s.keys) != 0 {
		t.Errorf("after the failed apply west holds tokens %v and API keys %v, want the minted ones revoked", s.tokens, s.keys)
	}

	env.sim.ClearFaults()
	tc = env.connect(t, ConnectOptions{})
	if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Fatalf("plan after the re-apply is not empty:\n%s", planText(p))
	}
	after := env.snapshot(t, "west")
	if len(after.tokens) != 1 || len(after.keys) != 1 {
		t.Errorf("west holds tokens %v and API keys %v, want one of each", after.tokens, after.keys)
	}
}

func findChangeKey(p *plan.Plan, key string) (plan.Change, bool) {
	i := slices.IndexFunc(p.Changes, func(ch plan.Change) bool { return ch.Key() == key })
	if i < 0 {
		return plan.Change{}, false
	}
	return p.Changes[i], true
}
