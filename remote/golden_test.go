package remote

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

var update = flag.Bool("update", os.Getenv("UPDATE_GOLDEN") != "", "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

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
	golden(t, "ccr_first_plan.golden", []byte(text))
}
