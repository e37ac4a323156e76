package remote

import (
	"slices"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
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
