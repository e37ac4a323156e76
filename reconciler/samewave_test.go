package reconciler

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fleetform/fleetform/plan"
)

// TestApply_DependencyInsideOneWaveIsWaitedFor: two changes of one
// cluster, kind and direction form one wave, which the executor runs
// concurrently; when one depends on the other, it must still wait for it
// and be skipped when it fails — not start alongside it.
func TestApply_DependencyInsideOneWaveIsWaitedFor(t *testing.T) {
	h := newHarness(t)
	log := &stepLog{}
	clusters := func(context.Context, *plan.Plan, bool) (*ClusterPlan, error) {
		return &ClusterPlan{Steps: []ClusterStep{
			{Change: plan.Change{Cluster: "west", Kind: "package", ID: "base", Action: plan.Create},
				Run: func(context.Context) error { log.add("run base"); return errors.New("refused") }},
			{Change: plan.Change{Cluster: "west", Kind: "package", ID: "addon", Action: plan.Create, DependsOn: []string{"west/package/base"}},
				Run: func(context.Context) error { log.add("run addon"); return nil }},
			{Change: plan.Change{Cluster: "west", Kind: "package", ID: "other", Action: plan.Create},
				Run: func(context.Context) error { log.add("run other"); return nil }},
		}}, nil
	}
	res, err := h.r.Apply(context.Background(), fullDoc(), nil, ApplyOptions{Clusters: clusters})
	if !errors.Is(err, ErrNotConverged) {
		t.Fatalf("apply = %v, want not converged", err)
	}
	if slices.Contains(log.all(), "run addon") {
		t.Errorf("addon ran although base, which it depends on, failed: %v", log.all())
	}
	want := map[string]string{"west/package/base": StatusFailed, "west/package/addon": StatusSkipped, "west/package/other": StatusApplied}
	for _, o := range res.Outcomes {
		if w, ok := want[o.Change.Key()]; ok && o.Status != w {
			t.Errorf("%s: %s, want %s", o.Change.Key(), o.Status, w)
		}
	}
}
