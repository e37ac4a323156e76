package remote

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// blockedBody declares an output synced through CCR (remote-west) and one
// synced directly (direct-west) to west, and a package to sync.
const blockedBody = `
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
  - id: direct-west
    name: direct-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    sync_via: direct
    kibana_url: "{{west.kibana}}"
    kibana_api_key: {generate: true}
packages:
  - {name: nginx, version: 2.0.0}
`

// TestTwoCluster_MainOutputNotMadeLeavesRemoteUntouched: every remote
// object fleetform makes for an output — the remote-cluster link, the
// remote's own elasticsearch output, the follower, the credentials, the
// directly synced packages — depends on the main output's change. When
// main's Kibana refuses the output (9.0 knows no sync_integrations: the
// plan blocks it) the plan blocks them all and apply writes nothing on the
// remote; when the output's create fails, apply skips them. The
// TestVersionMatrix rows 8.11.9…9.0.9 × 9.1.0/9.3.0 × enterprise and
// trial left west with a link and no follower, and nginx installed for an
// output main did not have.
func TestTwoCluster_MainOutputNotMadeLeavesRemoteUntouched(t *testing.T) {
	tests := []struct {
		name        string
		mainVersion string
		fault       bool // main's output create fails
		wantAction  plan.Action
		wantReason  string // of each remote change in the plan
	}{
		{name: "blocked by the main Kibana's version", mainVersion: "9.0.9", wantAction: plan.Blocked, wantReason: "blocked; apply would skip this"},
		{name: "the main output's create fails", fault: true, wantAction: plan.Create},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise", Version: tt.mainVersion},
				{Name: "west", License: "enterprise"}}, blockedBody)
			ctx := t.Context()
			// West's default output points elsewhere, so the sync needs an
			// elasticsearch output fleetform makes on west.
			if _, err := env.kibana(t, "west").UpdateOutput(ctx, "fleet-default-output", map[string]any{"hosts": []string{"https://west-ingest.example:9200"}}); err != nil {
				t.Fatal(err)
			}
			tc := env.connect(t, ConnectOptions{HealthTimeout: -1})
			p := mustPlan(t, tc, env.doc)
			for _, want := range [][3]string{
				{"west", KindRemoteCluster, "main"},
				{"west", KindOutput, "fleetform-sync-remote-west"},
				{"west", KindFollower, "fleet-synced-integrations-ccr-remote-west"},
				{"west", KindPackage, "nginx"},
			} {
				ch, ok := findChange(p, want[0], want[1], want[2])
				if !ok || ch.Action != tt.wantAction || !strings.Contains(ch.Reason, tt.wantReason) {
					t.Errorf("plan: %v = %s %q, want %s with %q", want, ch.Action, ch.Reason, tt.wantAction, tt.wantReason)
				}
				if out := map[string]string{KindPackage: "direct-west"}[want[1]]; !slices.Contains(ch.DependsOn, plan.Key("main", plan.KindOutput, cmpOr(out, "remote-west"))) {
					t.Errorf("plan: %v does not depend on its main output: %v", want, ch.DependsOn)
				}
			}
			if t.Failed() {
				t.Fatalf("plan:\n%s", planText(p))
			}
			if tt.fault {
				if err := env.sim.AddFault(faultFor("main", "POST", "/api/fleet/outputs")); err != nil {
					t.Fatal(err)
				}
			}
			before, packages := env.snapshot(t, "west"), env.installedOn(t, "west")
			res, err := tc.Apply(ctx, env.doc, nil, applyOpts())
			if !errors.Is(err, reconciler.ErrNotConverged) {
				t.Errorf("apply = %v, want %v", err, reconciler.ErrNotConverged)
			}
			for _, o := range res.Outcomes {
				if o.Change.Cluster == "west" && o.Status == reconciler.StatusApplied {
					t.Errorf("apply made %s %s on west for an output main does not have", o.Change.Action, o.Change.Key())
				}
			}
			if after := env.snapshot(t, "west"); !equalSnapshots(before, after) {
				t.Errorf("west changed: %+v → %+v", before, after)
			}
			if got := env.installedOn(t, "west"); !maps.Equal(got, packages) {
				t.Errorf("west's packages went from %v to %v", packages, got)
			}
			for k := range loadLedger(t, tc) {
				if k[0] == "west" && k[1] == LedgerOwned {
					t.Errorf("the state records %s on west as fleetform's", k[2])
				}
			}
		})
	}
}

// TestVersion_DirectSyncToOldRemoteNotProbed: a direct-synced output's
// declared kibana_api_key is not tried against a remote Kibana older than
// 9.1, which has no remote sync status API to try it on (it answers 404
// to any key): the output applies and fleetform installs its integrations
// there (TestVersionMatrix rows with west on 8.19.9 or 9.0.9 were refused
// by preflight with "answered 404 to the sync status request"). From 9.1
// a key without the privileges is still refused.
func TestVersion_DirectSyncToOldRemoteNotProbed(t *testing.T) {
	body := strings.Replace(fmt.Sprintf(directBody, true), "kibana_api_key: {generate: true}", "kibana_api_key: {env: FF_REMOTE_TEST_KEY}", 1)
	tests := []struct {
		westVersion string
		privileged  bool
		wantProblem string // "" for none
	}{
		{westVersion: "9.0.9", privileged: true},
		{westVersion: "8.19.9", privileged: false},
		{westVersion: "9.1.0", privileged: true},
		{westVersion: "9.1.0", privileged: false, wantProblem: "kibana_api_key lacks feature_fleet.read + feature_fleetv2.read"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/privileged=%v", tt.westVersion, tt.privileged), func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"},
				{Name: "west", License: "basic", Version: tt.westVersion}}, body)
			spec := APIKeySpec{}.RoleDescriptors()
			if !tt.privileged {
				spec = map[string]elastic.RoleDescriptor{"none": {Cluster: []string{"monitor"}}}
			}
			_, key, err := env.es("west").CreateAPIKey(t.Context(), "declared", spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("FF_REMOTE_TEST_KEY", key.Reveal())
			tc := env.connect(t, ConnectOptions{})
			p := mustPlan(t, tc, env.doc)
			ch, found := findChange(p, "west", KindPreflight, "remote-west/"+CheckKibana)
			switch {
			case tt.wantProblem == "" && found:
				t.Fatalf("preflight refuses the direct sync to west %s: %s", tt.westVersion, ch.Reason)
			case tt.wantProblem != "" && (!found || !strings.Contains(ch.Reason, tt.wantProblem)):
				t.Fatalf("want the preflight problem %q; plan:\n%s", tt.wantProblem, planText(p))
			case tt.wantProblem != "":
				return
			}
			mustApply(t, tc, env.doc)
			if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
				t.Errorf("nginx on west = %q, want 2.0.0 (direct sync)", v)
			}
		})
	}
}
