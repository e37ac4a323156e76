package remote

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/internal/golden"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// TestTwoCluster_PlanGolden pins the text of a first two-cluster plan, with
// the simulator's random addresses replaced by names.
func TestTwoCluster_PlanGolden(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	var b strings.Builder
	if err := plan.WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	main, west := env.sim.Cluster("main"), env.sim.Cluster("west")
	text := strings.NewReplacer(main.ESURL(), "MAIN_ES", main.KibanaURL(), "MAIN_KIBANA", west.ESURL(), "WEST_ES",
		west.KibanaURL(), "WEST_KIBANA", hostOf(main.ESURL()), "MAIN_ES_HOST").Replace(b.String())
	golden.Check(t, filepath.Join("testdata", "ccr_first_plan.golden"), []byte(text))
}
