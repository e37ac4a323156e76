package reconciler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fleetform/fleetform/plan"
)

// stepLog records what contributed steps and progress reports saw.
type stepLog struct {
	mu     sync.Mutex
	events []string
}

func (l *stepLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, s)
}

func (l *stepLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// TestApply_ContributedStepsRunInThePlansOrder: the steps an engine
// contributes (clusters.go) join the plan, are ordered with the main
// cluster's changes by their dependencies, and run in that order by the
// same executor: progress and outcomes for each, a failed one skipping
// its dependants, a step that finds it must be skipped saying so; the
// main cluster is recorded before the first AfterMain step, and Finish
// runs last with every outcome.
func TestApply_ContributedStepsRunInThePlansOrder(t *testing.T) {
	// west's kinds are not in the table (package remote adds them): by
	// name, the follower would come before the link it depends on.
	h := newHarness(t)
	doc := fullDoc()
	log := &stepLog{}
	var recordedBefore bool
	clusters := func(_ context.Context, main *plan.Plan, prune bool) (*ClusterPlan, error) {
		if !slices.ContainsFunc(main.Changes, func(c plan.Change) bool { return c.Key() == "main/output/remote-west" }) {
			t.Errorf("Clusters was not given the main cluster's plan: %v", main.Changes)
		}
		run := func(name string, err error) func(context.Context) error {
			return func(context.Context) error { log.add("run " + name); return err }
		}
		return &ClusterPlan{
			Steps: []ClusterStep{
				{Change: plan.Change{Cluster: "west", Kind: "follower_index", ID: "f", Action: plan.Create,
					DependsOn: []string{"main/output/remote-west", "west/remote_cluster/main"}}, AfterMain: true,
					Run: func(ctx context.Context) error {
						recs, _ := h.inv.Load(ctx)
						recordedBefore = slices.ContainsFunc(recs, func(r Record) bool { return r.Kind == plan.KindOutput && r.ID == "remote-west" })
						return run("follower", nil)(ctx)
					}},
				{Change: plan.Change{Cluster: "west", Kind: "remote_cluster", ID: "main", Action: plan.Create}, Run: run("link", nil)},
				{Change: plan.Change{Cluster: "west", Kind: "output", ID: "broken", Action: plan.Create}, Run: run("broken", errors.New("refused"))},
				{Change: plan.Change{Cluster: "west", Kind: "package", ID: "nginx", Action: plan.Create,
					DependsOn: []string{"west/output/broken"}}, AfterMain: true, Run: run("nginx", nil)},
				{Change: plan.Change{Cluster: "west", Kind: "package", ID: "system", Action: plan.Create}, AfterMain: true,
					Run: run("system", ErrSkipped)},
				{Change: plan.Change{Cluster: "west", Kind: "preflight", ID: "x", Action: plan.Blocked, Reason: "no"}},
			},
			Warnings: []string{"a remote warning"},
			MainDone: func(outcomes []Outcome) {
				for _, o := range outcomes {
					if o.Change.Cluster != "main" {
						t.Errorf("MainDone got %s", o.Change.Key())
					}
				}
				log.add("main done")
			},
			Finish: func(_ context.Context, outcomes []Outcome, progress ProgressFunc) ([]Outcome, error) {
				log.add("finish")
				if len(outcomes) == 0 {
					t.Error("Finish got no outcomes")
				}
				extra := plan.Change{Cluster: "west", Kind: "package", ID: "late", Action: plan.Create}
				progress(extra, StatusApplied, nil)
				return []Outcome{{Change: extra, Status: StatusApplied}}, nil
			},
		}, nil
	}
	var mu sync.Mutex
	var reports []string
	res, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{Clusters: clusters, Progress: func(ch plan.Change, status string, _ error) {
		mu.Lock()
		defer mu.Unlock()
		if ch.Cluster == "west" && status != StatusStarted {
			reports = append(reports, status+" "+ch.Key())
		}
	}})
	if !errors.Is(err, ErrNotConverged) {
		t.Fatalf("apply = %v, want not converged (a step failed)", err)
	}
	var order []string
	for _, ch := range res.Plan.Changes {
		order = append(order, ch.Key())
	}
	link, follower := slices.Index(order, "west/remote_cluster/main"), slices.Index(order, "west/follower_index/f")
	if link < 0 || follower < link {
		t.Errorf("the follower is not after the link it depends on: %v", order)
	}
	if i := slices.IndexFunc(order, func(k string) bool { return strings.HasPrefix(k, "west/") }); i < 0 || slices.ContainsFunc(order[i:], func(k string) bool { return strings.HasPrefix(k, "main/") }) {
		t.Errorf("a main change comes after a contributed one: %v", order)
	}
	if !slices.Contains(res.Plan.Warnings, "a remote warning") {
		t.Errorf("warnings %v lack the contributed one", res.Plan.Warnings)
	}
	status := map[string]string{}
	for _, o := range res.Outcomes {
		status[o.Change.Key()] = o.Status
	}
	want := map[string]string{"west/remote_cluster/main": StatusApplied, "west/follower_index/f": StatusApplied,
		"west/output/broken": StatusFailed, "west/package/nginx": StatusSkipped, "west/package/system": StatusSkipped,
		"west/preflight/x": StatusBlocked, "west/package/late": StatusApplied, "main/output/remote-west": StatusApplied}
	// The change Finish found joins the executed plan, last.
	if len(res.Outcomes) != len(res.Plan.Changes) || order[len(order)-1] != "west/package/late" {
		t.Errorf("%d outcomes for %d changes (the one found by Finish, last, included): %v", len(res.Outcomes), len(res.Plan.Changes), order)
	}
	for k, st := range want {
		if status[k] != st {
			t.Errorf("%s: %q, want %q", k, status[k], st)
		}
	}
	var wantReports []string
	for _, k := range order {
		if strings.HasPrefix(k, "west/") {
			wantReports = append(wantReports, status[k]+" "+k)
		}
	}
	if !slices.Equal(reports, wantReports) {
		t.Errorf("progress\n got %q\nwant %q", reports, wantReports)
	}
	events := log.all()
	if slices.Contains(events, "run nginx") {
		t.Error("a step whose dependency failed ran")
	}
	md, fol, fin := slices.Index(events, "main done"), slices.Index(events, "run follower"), slices.Index(events, "finish")
	if md < 0 || fol < md || fin != len(events)-1 {
		t.Errorf("events %q: want main done before the follower, finish last", events)
	}
	if !recordedBefore {
		t.Error("the main output was not recorded before the first AfterMain step")
	}
}

// TestApply_ContributedStopAndSavedPlan: a contributed Stop refuses the
// apply before any write; a saved plan is stale when a contributed change
// differs in what it does, and not when only its reason does.
func TestApply_ContributedStopAndSavedPlan(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	stop := errors.New("preflight: no")
	clusters := func(reason, after string, stop error) Clusters {
		return func(context.Context, *plan.Plan, bool) (*ClusterPlan, error) {
			return &ClusterPlan{Stop: stop, StaleReason: "the remotes moved", Steps: []ClusterStep{{
				Change: plan.Change{Cluster: "west", Kind: "remote_cluster", ID: "main", Action: plan.Create, Reason: reason,
					Fields: []plan.FieldDiff{{Path: "mode", After: after}}},
				Run: func(context.Context) error { return nil }}}}, nil
		}
	}
	if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{Clusters: clusters("r", "proxy", stop)}); !errors.Is(err, stop) {
		t.Fatalf("apply with a Stop = %v, want it", err)
	}
	if w := h.f.writes(); len(w) != 0 {
		t.Errorf("apply with a Stop wrote %v", w)
	}
	saved, err := h.r.PlanClusters(context.Background(), doc, "rev", clusters("r", "proxy", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(saved.Changes, func(c plan.Change) bool { return c.Key() == "west/remote_cluster/main" }) {
		t.Fatalf("the plan lacks the contributed change: %v", saved.Changes)
	}
	_, err = h.r.Apply(context.Background(), doc, saved, ApplyOptions{Clusters: clusters("r", "sniff", nil)})
	if !errors.Is(err, ErrStalePlan) || !strings.Contains(err.Error(), "the remotes moved") {
		t.Fatalf("apply of a saved plan whose contributed change moved = %v, want stale (the remotes moved)", err)
	}
	if w := h.f.writes(); len(w) != 0 {
		t.Errorf("a stale apply wrote %v", w)
	}
	if _, err := h.r.Apply(context.Background(), doc, saved, ApplyOptions{Clusters: clusters("another reason", "proxy", nil)}); err != nil {
		t.Fatalf("apply of a saved plan whose contributed change only reads differently: %v", err)
	}
}
