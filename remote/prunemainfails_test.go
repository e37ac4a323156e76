package remote

import (
	"slices"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// TestTwoCluster_PruneWhileMainDeleteFails: apply --prune removes
// remote-west, and Kibana answers the main output's delete with a 500, so
// the output still exists on main and still carries its service token and
// API key. The remote deletes that wait for the main delete are skipped,
// west keeps everything the still-existing output needs (its token and
// its API key still authenticate), the outcomes add up to the plan, and
// once Kibana answers again apply --prune converges.
func TestTwoCluster_PruneWhileMainDeleteFails(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, pruneBody)
	ctx := t.Context()
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
	before := env.snapshot(t, "west")
	env.load(t, withoutOutput)

	tc := env.connect(t, ConnectOptions{Prune: true})
	p := mustPlan(t, tc, env.doc)
	mainDel := plan.Key("main", plan.KindOutput, "remote-west")
	if c, ok := findChangeKey(p, mainDel); !ok || c.Action != plan.Delete {
		t.Fatalf("setup: the plan does not delete remote-west on main:\n%s", planText(p))
	}
	var dependents []string
	for _, ch := range p.Changes {
		if dependsOn(p, ch, mainDel) {
			dependents = append(dependents, ch.Key())
		}
	}
	for _, k := range []string{KindServiceToken, KindAPIKey} {
		if !slices.ContainsFunc(dependents, func(d string) bool { c, _ := findChangeKey(p, d); return c.Kind == k }) {
			t.Fatalf("setup: the %s delete does not wait for %s:\n%s", k, mainDel, planText(p))
		}
	}

	if err := env.sim.AddFault(simhttp.Fault{Cluster: "main", Method: "DELETE", PathPattern: "/api/fleet/outputs/remote-west", Status: 500}); err != nil {
		t.Fatal(err)
	}
	log := &progressLog{}
	o := reconciler.ApplyOptions{Revision: "test", Prune: true, Progress: log.report}
	res, err := tc.Apply(ctx, env.doc, nil, o)
	if err == nil {
		t.Fatal("apply --prune with a failing main delete converged")
	}
	checkOutcomesAddUp(t, p, res)
	checkAppliedInPlanOrder(t, "apply --prune", p, log)
	for _, o := range res.Outcomes {
		if slices.Contains(dependents, o.Change.Key()) && o.Status != reconciler.StatusSkipped {
			t.Errorf("%s, which waits for %s: %s (%v), want skipped", o.Change.Key(), mainDel, o.Status, o.Err)
		}
	}
	for _, ev := range log.events {
		for _, d := range dependents {
			if ev == reconciler.StatusStarted+" "+d {
				t.Errorf("%s started although %s failed", d, mainDel)
			}
		}
	}
	after := env.snapshot(t, "west")
	for _, tok := range before.tokens {
		if !slices.Contains(after.tokens, tok) {
			t.Errorf("token %s was deleted although the output that carries it still exists on main", tok)
		}
	}
	for _, k := range before.keys {
		if !slices.Contains(after.keys, k) {
			t.Errorf("API key %s was deleted although the output that carries it still exists on main", k)
		}
	}
	// Kibana on west syncs remote-west's integrations from the follower
	// index through its own elasticsearch output with remote-west's hosts
	// (Kibana: x-pack/platform/plugins/shared/fleet/server/tasks/
	// sync_integrations/sync_integrations_on_remote.ts reads
	// fleet-synced-integrations-ccr-*), replicated over the link: while
	// remote-west exists with sync_integrations, they stay.
	if !slices.Equal(after.followers, before.followers) || !slices.Equal(after.outputs, before.outputs) || !slices.Equal(after.settings, before.settings) {
		t.Errorf("west lost what the still-existing remote-west syncs through:\nbefore %+v\nafter  %+v", before, after)
	}
	checkOutputHealthyToken(t, env, "remote-west")
	checkOutputHealthyToken(t, env, "backup-west")

	env.sim.ClearFaults()
	tc = env.connect(t, ConnectOptions{Prune: true})
	if _, err := tc.Apply(ctx, env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: true}); err != nil {
		t.Fatalf("re-apply --prune: %v", err)
	}
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Fatalf("plan after the re-apply is not empty:\n%s", planText(p))
	}
	if tokens, err := env.es("west").ServiceTokens(ctx); err != nil || !slices.Equal(tokens, []string{"fleetform-backup-west-1"}) {
		t.Errorf("west tokens = %v, %v; want only backup-west's", tokens, err)
	}
	checkOutputHealthyToken(t, env, "backup-west")
}
