package remote

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// hookTransport runs hook once, before the first request for which
// match is true is sent: something changing a cluster in the middle of
// an apply.
type hookTransport struct {
	rt    http.RoundTripper
	match func(*http.Request) bool
	hook  func()
	once  sync.Once
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if h.match(r) {
		h.once.Do(h.hook)
	}
	return h.rt.RoundTrip(r)
}

// TestTwoCluster_ChangeFoundAfterTheMainWrites: the remote moves behind
// fleetform's back while the main cluster's changes are applied (the
// follower is deleted by hand), so the look at the remotes after them
// finds a change the plan did not have. Apply reports it, and the result
// still adds up: its plan holds every change it reports.
func TestTwoCluster_ChangeFoundAfterTheMainWrites(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, ccrBody)
	ctx := t.Context()
	mustApply(t, env.connect(t, ConnectOptions{}), env.doc)
	env.load(t, strings.Replace(ccrBody, "name: remote-west\n", "name: remote-west-renamed\n", 1))

	follower := FollowerIndexName("remote-west")
	hook := &hookTransport{rt: http.DefaultTransport,
		match: func(r *http.Request) bool { return r.Method == "PUT" && r.URL.Path == "/api/fleet/outputs/remote-west" },
		hook: func() {
			if err := env.es("west").CCRPause(ctx, follower); err != nil {
				t.Error(err)
			}
			if err := deleteIndex(ctx, env.es("west").Client, follower); err != nil {
				t.Error(err)
			}
		}}
	tc, err := connect(ctx, env.doc, ConnectOptions{HealthTimeout: -1}, hook)
	if err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, tc, env.doc)
	if _, ok := findChange(p, "west", KindFollower, follower); ok {
		t.Fatalf("setup: the plan already has the follower:\n%s", planText(p))
	}
	res, err := tc.Apply(ctx, env.doc, nil, applyOpts())
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	o, ok := findOutcome(res, "west", KindFollower, follower)
	if !ok {
		t.Fatalf("apply did not report the follower it re-created; outcomes %+v", res.Outcomes)
	}
	if o.Status != "applied" {
		t.Errorf("follower: %s %v", o.Status, o.Err)
	}
	checkOutcomesAddUp(t, res.Plan, res)
	if fs, err := env.es("west").Followers(ctx); err != nil || !fs[follower].Follower {
		t.Errorf("follower on west: %v %v", fs, err)
	}
}
