package remote

import (
	"slices"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/reconciler"
)

// TestTwoCluster_UnrecordedSyncOutputIsOwnedByName: the remote's
// elasticsearch output fleetform-sync-<output> exists without a record (an
// older fleetform created it and its record was lost): fleetform recognises
// it by its name, records it, and prune removes it.
func TestTwoCluster_UnrecordedSyncOutputIsOwnedByName(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	ctx := t.Context()
	kb := env.kibana(t, "west")
	if _, err := kb.UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	hosts, _ := NormalizeHosts([]string{env.sim.Cluster("west").ESURL()})
	if _, err := kb.CreateOutput(ctx, map[string]any{"id": "fleetform-sync-remote-west", "name": "remote-west (fleetform sync target)",
		"type": "elasticsearch", "hosts": hosts, "is_default": false, "is_default_monitoring": false}); err != nil {
		t.Fatal(err)
	}
	tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
	mustApply(t, tc, env.doc)
	if got := ownedOn(t, tc, "west"); !slices.Contains(got, KindOutput+"/fleetform-sync-remote-west") {
		t.Fatalf("fleetform owns %v on west; the unrecorded fleetform-sync-remote-west is not among them", got)
	}
	env.load(t, "packages:\n  - {name: nginx, version: 2.0.0}\n")
	tc = env.connect(t, ConnectOptions{HealthTimeout: -1, Prune: true})
	if _, err := tc.Apply(ctx, env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: true}); err != nil {
		t.Fatalf("apply --prune: %v", err)
	}
	if outs := env.snapshot(t, "west").outputs; slices.Contains(outs, "fleetform-sync-remote-west") {
		t.Errorf("outputs on west after prune = %v", outs)
	}
}

// TestTwoCluster_StateWriteFailsBeforeRemoteCreate: the state index
// answers 503 to fleetform's ownership records on west: the link, the
// follower and the remote's output are not created (their intent could
// not be journalled), and once the state index works again, an apply
// creates and owns them, so prune removes them.
func TestTwoCluster_StateWriteFailsBeforeRemoteCreate(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	ctx := t.Context()
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	before := env.snapshot(t, "west")
	if err := env.sim.AddFault(simhttp.Fault{Cluster: "main", Method: "PUT", PathPattern: "/fleetform-state/_doc/default/west/owned/**", Status: 503}); err != nil {
		t.Fatal(err)
	}
	tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
	if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); err == nil {
		t.Fatal("apply converged although no ownership record could be written")
	}
	got := env.snapshot(t, "west")
	if !slices.Equal(got.settings, before.settings) || !slices.Equal(got.outputs, before.outputs) || len(got.indices) != 0 {
		t.Errorf("west changed although the intent could not be recorded:\n%+v\nbefore:\n%+v", got, before)
	}
	env.sim.ClearFaults()
	mustApply(t, tc, env.doc)
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Fatalf("plan not empty:\n%s", planText(p))
	}
	for _, want := range []string{KindFollower + "/" + FollowerIndexName("remote-west"), KindOutput + "/fleetform-sync-remote-west", KindRemoteCluster + "/main"} {
		if !slices.Contains(ownedOn(t, tc, "west"), want) {
			t.Errorf("fleetform does not own %s on west", want)
		}
	}
	env.load(t, "packages:\n  - {name: nginx, version: 2.0.0}\n")
	tc = env.connect(t, ConnectOptions{HealthTimeout: -1, Prune: true})
	if _, err := tc.Apply(ctx, env.doc, nil, reconciler.ApplyOptions{Revision: "test", Prune: true}); err != nil {
		t.Fatalf("apply --prune: %v", err)
	}
	if got := env.snapshot(t, "west"); !equalSnapshots(got, before) {
		t.Errorf("after apply --prune west holds\n%+v\nwant\n%+v", got, before)
	}
}
