package remote

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// A blocked direct-sync uninstall puts its reason into the package's state
// entry once, status shows it, a repeated apply does not write it again, and
// the record goes when the block does.
func TestTwoCluster_BlockedUninstallReasonInStatus(t *testing.T) {
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic"}, {Name: "west", License: "basic"}},
		fmt.Sprintf(directBody, true))
	west := &fleetsim.ClusterSeed{
		AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "west-web", Name: "West web", Namespace: "default", Agents: 3}},
		Packages:      []fleetsim.SeedPackage{{Name: "nginx", Version: "2.0.0"}},
	}
	pp := fleetsim.SeedPackagePolicy{Name: "nginx-west", PolicyIDs: []string{"west-web"}, Agents: 3}
	pp.Package.Name, pp.Package.Version = "nginx", "2.0.0"
	west.PackagePolicies = []fleetsim.SeedPackagePolicy{pp}
	seed := &fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{
		"main": {Packages: []fleetsim.SeedPackage{{Name: "nginx", Version: "2.0.0"}}},
		"west": west,
	}}
	if err := env.sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tc := env.connect(t, ConnectOptions{})
	mustApply(t, tc, env.doc)
	withNginx := env.doc
	env.load(t, strings.Replace(fmt.Sprintf(directBody, true), "packages:\n  - {name: nginx, version: 2.0.0}\n", "", 1))
	if err := env.kibana(t, "main").UninstallPackage(ctx, "nginx", "2.0.0", false); err != nil {
		t.Fatal(err)
	}

	const reason = "1 package policy on the remote is in use by 3 agent(s): nginx-west (3 agents)"
	for i := range 2 {
		env.sim.ClearRequests()
		if _, err := tc.Apply(ctx, env.doc, nil, applyOpts()); err == nil {
			t.Fatal("apply with a blocked uninstall reported convergence")
		}
		var stateWrites []string
		for _, w := range writes(env.sim.Requests()) {
			if strings.Contains(w, "/fleetform-state/_doc/default/west/"+LedgerSyncFailure+"/") {
				stateWrites = append(stateWrites, w)
			}
		}
		if want := map[int]int{0: 1, 1: 0}[i]; len(stateWrites) != want {
			t.Errorf("apply %d wrote the state index %d times, want %d: %q", i+1, len(stateWrites), want, stateWrites)
		}
		st, err := tc.Engine.Status(ctx, env.doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 1 || len(st[0].Integrations) != 1 {
			t.Fatalf("status = %+v", st)
		}
		got := st[0].Integrations[0]
		if got.SyncStatus != SyncWarning || got.Warning == nil || !strings.Contains(got.Warning.Message, reason) {
			t.Errorf("apply %d: status of nginx = %s %+v, want warning with %q", i+1, got.SyncStatus, got.Warning, reason)
		}
	}

	// nginx back on main: no longer blocked, the record is dropped.
	if err := env.kibana(t, "main").InstallPackage(ctx, "nginx", "2.0.0", true); err != nil {
		t.Fatal(err)
	}
	env.doc = withNginx
	mustApply(t, tc, env.doc)
	if _, ok := loadLedger(t, tc).get("west", LedgerSyncFailure, "nginx"); ok {
		t.Error("the blocked-uninstall record survived the end of the block")
	}
}
