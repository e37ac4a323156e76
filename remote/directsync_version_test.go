package remote

import (
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// directBodyOldKibana is directBody as a Kibana before 9.1 can take it:
// no kibana_url or kibana_api_key (keys of Kibana's own sync, kibana PR
// #208516, 9.1), sync_integrations: true only as fleetform's trigger.
const directBodyOldKibana = `
outputs:
  - id: remote-west
    name: remote-west
    type: remote_elasticsearch
    remote: west
    hosts: ["{{west.es}}"]
    secrets:
      service_token: {generate: true}
    sync_integrations: true
    sync_uninstalled_integrations: true
    sync_via: direct
packages:
  - {name: nginx, version: 2.0.0}
`

// TestDirectSync_KibanaBefore91: sync_via: direct is how integrations
// reach a remote where Kibana's own sync cannot run — the remote preflight
// says "upgrade it or set sync_via: direct" to a pre-9.1 remote. fleetform
// keeps Kibana's sync off by sending sync_integrations and
// sync_uninstalled_integrations false (fleetView), but a main Kibana before
// 9.1 has neither key (types/models/output.ts of 9.1; kibana PRs #208516,
// #217144) and no sync to turn off: the plan used to block the output
// with "sync_integrations needs Kibana 9.1.0 … remove them from the
// declaration", for keys fleetform itself added, so direct sync could not
// work below 9.1 at all. Now the two keys are left out there; 9.1 still
// gets them false (TestTwoCluster_DirectSyncWithoutCCR).
func TestDirectSync_KibanaBefore91(t *testing.T) {
	for _, version := range []string{"8.19.5", "9.0.4"} {
		t.Run(version, func(t *testing.T) {
			env := newSimEnv(t, []fleetsim.ClusterConfig{{Name: "main", License: "basic", Version: version},
				{Name: "west", License: "basic", Version: version}}, directBodyOldKibana)
			tc := env.connect(t, ConnectOptions{})
			p := mustPlan(t, tc, env.doc)
			if s := p.Summary(); s.Blocked != 0 {
				t.Fatalf("blocked:\n%s", planText(p))
			}
			ch, ok := findChange(p, "main", plan.KindOutput, "remote-west")
			if !ok || ch.Action != plan.Create {
				t.Fatalf("output change = %+v, %v\n%s", ch, ok, planText(p))
			}
			for _, f := range ch.Fields {
				if f.Path == "sync_integrations" || f.Path == "sync_uninstalled_integrations" {
					t.Errorf("Kibana %s has no %s, the plan sends it: %+v", version, f.Path, f)
				}
			}
			mustApply(t, tc, env.doc)
			if v := env.installedOn(t, "west")["nginx"]; v != "2.0.0" {
				t.Fatalf("nginx on west = %q, want 2.0.0 (direct sync)", v)
			}
			if p2 := mustPlan(t, tc, env.doc); !p2.Empty() {
				t.Fatalf("second plan not empty:\n%s", planText(p2))
			}
		})
	}
}
