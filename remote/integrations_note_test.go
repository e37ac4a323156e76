package remote

import (
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
)

// Kibana's sync_integrations task syncs installed packages and custom
// assets, never integration policies
// (FLEET/server/tasks/sync_integrations/sync_integrations_on_remote.ts):
// the plan says which integrations sending data to a remote output are not
// installed there, until the sync has brought their packages.
func TestTwoCluster_NoteIntegrationsNotInstalledOnRemote(t *testing.T) {
	body := ccrBody + `
agent_policies:
  - {id: web, name: Web, namespace: default}
package_policies:
  - id: nginx-web
    name: nginx web
    namespace: default
    package: {name: nginx, version: 2.0.0}
    policy_ids: [web]
    output_id: remote-west
`
	env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "enterprise"}, {Name: "west", License: "enterprise"}}, body)
	tc := env.connect(t, ConnectOptions{})
	note := func() string {
		p := mustPlan(t, tc, env.doc)
		i := slices.IndexFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "Kibana does not sync integration policies") })
		if i < 0 {
			return ""
		}
		return p.Warnings[i]
	}
	got := note()
	for _, want := range []string{"remote output remote-west", "not installed on west", "nginx (integration policy nginx-web)", "Kibana's sync installs them"} {
		if !strings.Contains(got, want) {
			t.Errorf("note %q lacks %q", got, want)
		}
	}
	mustApply(t, tc, env.doc)
	for range 2 {
		if err := env.sim.RunSyncOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
		t.Fatalf("nginx on west = %q after the sync", v)
	}
	if got := note(); got != "" {
		t.Errorf("note after the sync installed nginx on west: %q", got)
	}
}
