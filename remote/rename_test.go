package remote

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// TestTwoCluster_RenamedOutputKeepsItsFollower: the follower index is
// named after the output's name when fleetform creates it; renaming the
// output afterwards must not leave the remote with two followers (Kibana
// on the remote refuses to sync from more than one
// fleet-synced-integrations-ccr-* index, whatever their names:
// x-pack/platform/plugins/shared/fleet/server/tasks/sync_integrations/
// sync_integrations_on_remote.ts) nor refuse the rename: the output keeps
// the follower fleetform created for it.
func TestTwoCluster_RenamedOutputKeepsItsFollower(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	ctx := t.Context()
	mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
	env.load(t, strings.Replace(ccrBody, "name: remote-west\n", "name: Remote West (renamed)\n", 1))

	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	for _, ch := range p.Changes {
		if ch.Action == plan.Blocked || ch.Cluster == "west" {
			t.Errorf("renaming the output plans %s %s: %s", ch.Action, ch.Key(), ch.Reason)
		}
	}
	if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); err != nil {
		t.Fatalf("apply of the rename: %v", err)
	}
	if p := mustPlan(t, tc, env.doc); !p.Empty() {
		t.Fatalf("plan after the rename is not empty:\n%s", planText(p))
	}
	if s := env.snapshot(t, "west"); len(s.followers) != 1 || s.followers[0] != FollowerIndexName("remote-west") {
		t.Errorf("west follows %v, want only %s", s.followers, FollowerIndexName("remote-west"))
	}

	// Pruned later, it goes with the output.
	env.load(t, "packages:\n  - {name: nginx, version: 2.0.0}\n")
	tc = env.connect(t, ConnectOptions{Prune: true})
	p = mustPlan(t, tc, env.doc)
	if c, ok := findChange(p, "west", KindFollower, FollowerIndexName("remote-west")); !ok || c.Action != plan.Delete {
		t.Errorf("prune does not delete the renamed output's follower:\n%s", planText(p))
	}
}
