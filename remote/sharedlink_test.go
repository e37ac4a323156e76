package remote

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// twoCCRBody declares two CCR-synced outputs on west: both need the one
// remote-cluster link west reaches main through.
const twoCCRBody = `
outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    kibana_url: "{{west.kibana}}"
    kibana_api_key: {generate: true}
  - id: second-west
    name: second-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    kibana_url: "{{west.kibana}}"
    kibana_api_key: {generate: true}
packages:
  - {name: nginx, version: 2.0.0}
`

func countChanges(p *plan.Plan, cluster, kind string) int {
	n := 0
	for _, ch := range p.Changes {
		if ch.Cluster == cluster && ch.Kind == kind {
			n++
		}
	}
	return n
}

// TestTwoCluster_TwoCCROutputsOnOneRemoteRefused: two outputs synced by
// CCR to one remote would share its link, but each needs its own follower
// index, and Kibana on the remote refuses to sync from more than one
// (x-pack/platform/plugins/shared/fleet/server/tasks/sync_integrations/
// sync_integrations_on_remote.ts: "Not supported to sync multiple indices
// with prefix fleet-synced-integrations-ccr-*"). The first plan must say
// so — not a later one, after apply created both followers — and apply
// must write nothing.
func TestTwoCluster_TwoCCROutputsOnOneRemoteRefused(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, twoCCRBody)
	ctx := t.Context()
	tc := env.connect(t, ConnectOptions{})
	p := mustPlan(t, tc, env.doc)
	for _, out := range []string{"remote-west", "second-west"} {
		c, ok := findChange(p, "west", KindPreflight, out+"/"+CheckFollowers)
		if !ok || c.Action != plan.Blocked || !strings.Contains(c.Reason, "Not supported to sync multiple indices with prefix fleet-synced-integrations-ccr-*") {
			t.Errorf("the plan does not block %s's sync (a second follower index on west):\n%s", out, planText(p))
		}
	}
	if n := countChanges(p, "west", KindRemoteCluster); n > 1 {
		t.Errorf("the plan has %d link changes, want at most 1:\n%s", n, planText(p))
	}
	before := env.snapshot(t, "west")
	env.sim.ClearRequests()
	if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); !errors.Is(err, ErrPreflight) {
		t.Fatalf("apply = %v, want %v", err, ErrPreflight)
	}
	if w := writes(env.sim.Requests()); len(w) != 0 {
		t.Errorf("the refused apply wrote:\n%s", strings.Join(w, "\n"))
	}
	if after := env.snapshot(t, "west"); !equalSnapshots(before, after) {
		t.Errorf("west changed: %+v → %+v", before, after)
	}
}
