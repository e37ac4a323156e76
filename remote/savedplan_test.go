package remote

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// savedPlan returns p as `plan -o` writes it and apply reads it back.
func savedPlan(t *testing.T, p *plan.Plan) *plan.Plan {
	t.Helper()
	var b bytes.Buffer
	if err := plan.WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	saved, err := plan.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// TestTwoCluster_SavedPlanRemoteValuesChecked: between `plan -o` and
// `apply PLAN`, a value of a remote change moved (the main_link's
// proxy_address) while keys, actions and field counts stayed: apply must
// refuse the saved plan as the main cluster's side would.
func TestTwoCluster_SavedPlanRemoteValuesChecked(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	saved := savedPlan(t, mustPlan(t, tc, env.doc))
	if _, ok := findChange(saved, "west", KindRemoteCluster, "main"); !ok {
		t.Fatalf("plan has no link:\n%s", planText(saved))
	}

	env.doc.Clusters.Remotes[0].MainLink.ProxyAddress = "elsewhere.example:9300"
	_, err := tc.Apply(t.Context(), env.doc, saved, applyOpts())
	if !errors.Is(err, reconciler.ErrStalePlan) {
		t.Fatalf("apply of a saved plan whose proxy_address moved = %v, want %v", err, reconciler.ErrStalePlan)
	}
	cs, err := env.es("west").GetClusterSettings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for k := range cs.Persistent {
		if strings.HasPrefix(k, "cluster.remote.") {
			t.Errorf("the refused apply wrote %s", k)
		}
	}

	// The same saved plan, unchanged configuration: applies.
	env.doc.Clusters.Remotes[0].MainLink.ProxyAddress = hostOf(env.sim.Cluster("main").ESURL())
	if _, err := tc.Apply(t.Context(), env.doc, saved, applyOpts()); err != nil {
		t.Fatalf("apply of an unchanged saved plan: %v", err)
	}
}
