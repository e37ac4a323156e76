package remote

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// TestTwoCluster_SavedPlanIsWhatApplyDoes: every change a two-cluster
// apply of a saved plan makes is in that plan, with the same action — in
// particular the direct-sync installs on the remote of packages the same
// apply installs on main (examples/direct-sync: the plan showed 6 creates,
// apply made 8).
func TestTwoCluster_SavedPlanIsWhatApplyDoes(t *testing.T) {
	for _, tt := range []struct {
		name, license, body string
	}{
		{"direct", "basic", fmt.Sprintf(directBody, true)},
		{"ccr", "enterprise", ccrBody},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: tt.license}, {Name: "west", License: tt.license}}, tt.body)
			tc := env.connect(t, ConnectOptions{})
			saved := savedPlan(t, mustPlan(t, tc, env.doc))
			planned := map[string]plan.Change{}
			for _, ch := range saved.Changes {
				planned[ch.Key()] = ch
			}
			res, err := tc.Apply(t.Context(), env.doc, saved, applyOpts())
			if err != nil {
				t.Fatalf("apply of the saved plan: %v", err)
			}
			var unplanned []string
			for _, o := range res.Outcomes {
				if o.Status != reconciler.StatusApplied || o.Change.Kind == "" {
					continue
				}
				if ch, ok := planned[o.Change.Key()]; !ok || ch.Action != o.Change.Action {
					unplanned = append(unplanned, fmt.Sprintf("%s %s", o.Change.Action, o.Change.Key()))
				}
			}
			if len(unplanned) > 0 {
				t.Errorf("apply made changes its plan did not show: %s\nplan:\n%s", strings.Join(unplanned, ", "), planText(saved))
			}
			if tt.name == "direct" {
				ch, ok := findChange(saved, "west", KindPackage, "nginx")
				if !ok || ch.Action != plan.Create || !slices.ContainsFunc(ch.Fields, func(f plan.FieldDiff) bool { return f.Path == "version" && f.After == "2.0.0" }) {
					t.Errorf("plan lacks the direct-sync install of nginx 2.0.0 on west:\n%s", planText(saved))
				}
				out, _ := findChange(saved, "main", plan.KindOutput, "remote-west")
				for _, path := range []string{"sync_integrations", "sync_uninstalled_integrations"} {
					i := slices.IndexFunc(out.Fields, func(f plan.FieldDiff) bool { return f.Path == path })
					if i < 0 || out.Fields[i].After != false || !strings.Contains(out.Fields[i].Note, "sync_via: direct") {
						t.Errorf("the plan shows %s without saying why it is false:\n%s", path, planText(saved))
					}
				}
				if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
					t.Errorf("nginx on west = %q", v)
				}
			}
		})
	}
}

// TestExample_DirectSync_PlanIsApply: `plan -o` then `apply PLAN` on
// examples/direct-sync: apply makes exactly the plan's changes (it used to
// make 8 where the plan showed 6: the installs on west were missing).
func TestExample_DirectSync_PlanIsApply(t *testing.T) {
	sim, doc := loadExample(t, "../examples/direct-sync", "platinum")
	env := &simEnv{sim: sim, doc: doc}
	tc := env.connect(t, ConnectOptions{})
	saved := savedPlan(t, mustPlan(t, tc, doc))
	res, err := tc.Apply(t.Context(), doc, saved, applyOpts())
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	var planned, applied []string
	for _, ch := range saved.Changes {
		planned = append(planned, string(ch.Action)+" "+ch.Key())
	}
	for _, o := range res.Outcomes {
		if o.Change.Kind != "" {
			applied = append(applied, string(o.Change.Action)+" "+o.Change.Key())
		}
	}
	slices.Sort(planned)
	slices.Sort(applied)
	if !slices.Equal(planned, applied) {
		t.Errorf("plan showed\n  %s\napply made\n  %s", strings.Join(planned, "\n  "), strings.Join(applied, "\n  "))
	}
	if p := mustPlan(t, tc, doc); !p.Empty() {
		t.Errorf("plan after apply not empty:\n%s", planText(p))
	}
}
