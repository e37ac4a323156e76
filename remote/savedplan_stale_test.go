package remote

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/reconciler"
)

// TestTwoCluster_SavedPlanStaleAfterRemoteMoved: a plan with remote
// changes is saved (`plan -out`), then an object on the remote changes
// behind fleetform's back; applying the saved plan is refused as stale
// and writes nothing on any cluster — what it would carry out is no
// longer what was reviewed.
func TestTwoCluster_SavedPlanStaleAfterRemoteMoved(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		license string
		// applied: the plan is saved after a first apply and move (optional).
		setup func(t *testing.T, env *simEnv)
		// move changes the remote behind fleetform's back.
		move func(t *testing.T, env *simEnv)
	}{
		{
			name: "the link is set by hand", body: ccrBody, license: "enterprise",
			move: func(t *testing.T, env *simEnv) {
				if err := env.es("west").PutClusterSettings(t.Context(), map[string]any{
					"cluster.remote.main.mode": "proxy", "cluster.remote.main.proxy_address": "elsewhere.example:9300"}, nil); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "the remote's default output takes the output's hosts", body: ccrBody, license: "enterprise",
			setup: func(t *testing.T, env *simEnv) {
				if _, err := env.kibana(t, "west").UpdateOutput(t.Context(), "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
					t.Fatal(err)
				}
			},
			move: func(t *testing.T, env *simEnv) {
				if _, err := env.kibana(t, "west").UpdateOutput(t.Context(), "fleet-default-output", map[string]any{"hosts": []string{env.sim.Cluster("west").ESURL()}}); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "the minted token is deleted on the remote", body: ccrBody, license: "enterprise",
			setup: func(t *testing.T, env *simEnv) {
				mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
				// A change on both sides to save: the remote's output drifted.
				if _, err := env.kibana(t, "west").UpdateOutput(t.Context(), "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
					t.Fatal(err)
				}
			},
			move: func(t *testing.T, env *simEnv) {
				if err := env.es("west").DeleteServiceToken(t.Context(), "fleetform-remote-west-1"); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "the package is installed on the remote by hand", body: fmt.Sprintf(directBody, true), license: "basic",
			move: func(t *testing.T, env *simEnv) {
				if err := env.kibana(t, "west").InstallPackage(t.Context(), "nginx", "2.0.0", true); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: tt.license}, {Name: "west", License: tt.license}}, tt.body)
			if tt.setup != nil {
				tt.setup(t, env)
			}
			tc := env.connect(t, ConnectOptions{})
			saved := savedPlan(t, mustPlan(t, tc, env.doc))
			hasRemote := false
			for _, ch := range saved.Changes {
				hasRemote = hasRemote || ch.Cluster == "west"
			}
			if !hasRemote {
				t.Fatalf("setup: the saved plan has no remote change:\n%s", planText(saved))
			}
			tt.move(t, env)
			env.sim.ClearRequests()
			_, err := env.connect(t, ConnectOptions{}).Apply(t.Context(), env.doc, saved, applyOpts())
			if !errors.Is(err, reconciler.ErrStalePlan) {
				t.Fatalf("apply of the saved plan after the remote moved = %v, want %v\nsaved:\n%s\nnow:\n%s", err, reconciler.ErrStalePlan,
					planText(saved), planText(mustPlan(t, tc, env.doc)))
			}
			if w := writes(env.sim.Requests()); len(w) != 0 {
				t.Errorf("the refused apply wrote:\n%s", strings.Join(w, "\n"))
			}
		})
	}
}
