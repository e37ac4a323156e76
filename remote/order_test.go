package remote

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// progressLog records apply's progress reports in the order they came.
type progressLog struct {
	mu     sync.Mutex
	events []string // "started <key>" or "<status> <key>"
}

func (l *progressLog) report(ch plan.Change, status string, _ error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, status+" "+ch.Key())
}

// checkAppliedInPlanOrder asserts that apply carried out exactly the
// plan's changes, in the plan's order: every change of the plan ended
// once, nothing outside it was reported, and no change started before
// every change ahead of it in the plan had ended — except those of its
// own wave (same cluster, kind and direction, next to each other in the
// plan), which the executor runs concurrently.
func checkAppliedInPlanOrder(t *testing.T, what string, p *plan.Plan, log *progressLog) {
	t.Helper()
	index := map[string]int{}
	wave := make([]int, len(p.Changes)) // plan index of the first change of each change's wave
	for i, ch := range p.Changes {
		index[ch.Key()] = i
		wave[i] = i
		if i > 0 {
			prev := p.Changes[i-1]
			if prev.Cluster == ch.Cluster && prev.Kind == ch.Kind && (prev.Action == plan.Delete) == (ch.Action == plan.Delete) {
				wave[i] = wave[i-1]
			}
		}
	}
	ended := map[string]int{}
	maxWave := -1
	for _, ev := range log.events {
		status, key, _ := strings.Cut(ev, " ")
		i, ok := index[key]
		if !ok {
			t.Errorf("%s: apply reported %s, which is not in the plan", what, ev)
			continue
		}
		if wave[i] < maxWave {
			t.Errorf("%s: %s came after a change the plan puts after it\nplan order: %v\napply order: %v", what, ev, keys(p), log.events)
			return
		}
		maxWave = wave[i]
		if status != reconciler.StatusStarted {
			ended[key]++
		}
	}
	for _, ch := range p.Changes {
		if ended[ch.Key()] != 1 {
			t.Errorf("%s: change %s ended %d times in apply's reports, want once", what, ch.Key(), ended[ch.Key()])
		}
	}
}

func keys(p *plan.Plan) []string {
	var out []string
	for _, ch := range p.Changes {
		out = append(out, string(ch.Action)+" "+ch.Key())
	}
	return out
}

// TestTwoCluster_ApplyOrderIsPlanOrder: the order the plan prints is the
// order apply carries the changes out in, on both clusters — a first
// apply (the link and the remote's own elasticsearch output, the main
// output minting the credentials, the follower), an update on both sides,
// and --prune of an output that left the document.
func TestTwoCluster_ApplyOrderIsPlanOrder(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, pruneBody)
	ctx := t.Context()
	// West's default output points elsewhere, so fleetform creates the
	// elasticsearch output the sync needs on west.
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	apply := func(what string, opts ConnectOptions, wantKinds ...string) {
		t.Helper()
		tc := env.connect(t, opts)
		p := mustPlan(t, tc, env.doc)
		for _, k := range wantKinds {
			if !slices.ContainsFunc(p.Changes, func(ch plan.Change) bool { return ch.Cluster+"/"+ch.Kind == k }) {
				t.Fatalf("%s: setup: the plan has no %s change:\n%s", what, k, planText(p))
			}
		}
		log := &progressLog{}
		o := applyOpts()
		o.Progress = log.report
		if _, err := tc.Apply(ctx, env.doc, nil, o); err != nil {
			t.Fatalf("%s: apply: %v", what, err)
		}
		checkAppliedInPlanOrder(t, what, p, log)
		if p := mustPlan(t, env.connect(t, opts), env.doc); !p.Empty() {
			t.Fatalf("%s: plan after apply is not empty:\n%s", what, planText(p))
		}
	}
	apply("first apply", ConnectOptions{}, "main/output", "west/remote_cluster", "west/output", "west/service_token", "west/follower_index")

	// An update on both sides: the main output's name, and the hosts of
	// the remote's elasticsearch output, changed behind fleetform's back.
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleetform-sync-remote-west", map[string]any{"hosts": []string{"https://elsewhere.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	env.load(t, strings.Replace(pruneBody, "name: backup-west", "name: backup-west-renamed", 1))
	apply("update", ConnectOptions{}, "main/output", "west/output")

	env.load(t, withoutOutput)
	apply("prune", ConnectOptions{Prune: true}, "main/output", "west/follower_index", "west/service_token", "west/remote_cluster")
}

// TestTwoCluster_DirectPackagesWaitForTheRemoteOutput: on a remote that
// one output syncs by CCR (fleetform creates the remote's elasticsearch
// output) and another directly, the direct installs depend on that
// output's create, and come after it in the plan and in apply.
func TestTwoCluster_DirectPackagesWaitForTheRemoteOutput(t *testing.T) {
	body := strings.Replace(fmt.Sprintf(directBody, true), "packages:", `  - id: ccr-west
    name: ccr-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    kibana_url: "{{west.kibana}}"
    kibana_api_key: {generate: true}
packages:`, 1)
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, body)
	ctx := t.Context()
	if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
		t.Fatal(err)
	}
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	out, ok := findChange(p, "west", KindOutput, "fleetform-sync-ccr-west")
	pkg, ok2 := findChange(p, "west", KindPackage, "nginx")
	if !ok || !ok2 || out.Action != plan.Create {
		t.Fatalf("setup: want west's output created and nginx synced:\n%s", planText(p))
	}
	if !slices.Contains(pkg.DependsOn, out.Key()) {
		t.Errorf("west package nginx depends on %v, want %s too", pkg.DependsOn, out.Key())
	}
	log := &progressLog{}
	o := applyOpts()
	o.Progress = log.report
	if _, err := tc.Apply(ctx, env.doc, nil, o); err != nil {
		t.Fatalf("apply: %v", err)
	}
	checkAppliedInPlanOrder(t, "apply", p, log)
}

// TestTwoCluster_FailedMainOutputReportsEachChangeOnce: when the main
// output's create fails, the remote changes that depend on it are skipped
// — each reported once, as the plan has it, not again as found by the
// fresh look at the remotes after the main cluster's changes.
func TestTwoCluster_FailedMainOutputReportsEachChangeOnce(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	if err := env.sim.AddFault(faultFor("main", "POST", "/api/fleet/outputs")); err != nil {
		t.Fatal(err)
	}
	log := &progressLog{}
	o := applyOpts()
	o.Progress = log.report
	res, err := tc.Apply(t.Context(), env.doc, nil, o)
	if err == nil {
		t.Fatal("apply with a failing output create converged")
	}
	checkAppliedInPlanOrder(t, "apply", p, log)
	seen := map[string]int{}
	for _, o := range res.Outcomes {
		if seen[o.Change.Key()]++; seen[o.Change.Key()] == 2 {
			t.Errorf("%s reported twice", o.Change.Key())
		}
	}
	if o, ok := findOutcome(res, "west", KindFollower, "fleet-synced-integrations-ccr-remote-west"); !ok || o.Status != reconciler.StatusSkipped {
		t.Errorf("follower: %+v, want skipped", o)
	}
}

func findOutcome(res reconciler.Result, cluster, kind, id string) (reconciler.Outcome, bool) {
	for _, o := range res.Outcomes {
		if o.Change.Cluster == cluster && o.Change.Kind == kind && o.Change.ID == id {
			return o, true
		}
	}
	return reconciler.Outcome{}, false
}
