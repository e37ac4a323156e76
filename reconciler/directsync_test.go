package reconciler

import (
	"testing"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestPlan_DirectSyncSaysWhySyncIsOff is the main-cluster half of issue 10
// item 6: on examples/direct-sync the plan showed sync_integrations = false
// where the YAML says true, without saying why. The two-cluster engine hands
// the reconciler the output with Kibana's sync off (remote.fleetView); each
// sync field the plan shows must carry the reason, on create and on update.
func TestPlan_DirectSyncSaysWhySyncIsOff(t *testing.T) {
	h := newHarness(t)
	off := false
	out := schema.Output{ID: "remote-west", Name: "remote-west", Type: "remote_elasticsearch", Hosts: []string{"https://es.west.example:9200"},
		Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN")}, SyncVia: "direct", Remote: "west",
		SyncIntegrations: &off, SyncUninstalledIntegrations: &off}
	doc := &schema.Document{Outputs: []schema.Output{out}}
	check := func(p *plan.Plan, action plan.Action) {
		t.Helper()
		ch, ok := findPlanChange(p, plan.KindOutput, "remote-west")
		if !ok || ch.Action != action {
			t.Fatalf("plan:\n%s", renderText(p))
		}
		seen := 0
		for _, f := range ch.Fields {
			if f.Path == "sync_integrations" || f.Path == "sync_uninstalled_integrations" {
				seen++
				if f.Note != directSyncNote {
					t.Errorf("%s = %v without its reason (note %q)", f.Path, f.After, f.Note)
				}
			}
		}
		if seen != 2 {
			t.Errorf("%d sync fields in the plan, want 2:\n%s", seen, renderText(p))
		}
	}
	check(h.plan(doc), plan.Create)
	h.apply(doc)
	// Someone turned Kibana's sync on: the update back to false says why too.
	h.f.outputs["remote-west"]["sync_integrations"] = true
	h.f.outputs["remote-west"]["sync_uninstalled_integrations"] = true
	check(h.plan(doc), plan.Update)
}
