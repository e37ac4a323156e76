package reconciler

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestPlan_ListsUnmanagedObjects is issue 13 item 4: after the changes, the
// plan names the Fleet objects that are neither declared nor owned — not
// the declared ones, not the owned ones, not kibana.yml-preconfigured or
// managed ones — and the text view counts them unless asked to list them.
func TestPlan_ListsUnmanagedObjects(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main"})
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": {
		Outputs:       []map[string]any{{"id": "preconf", "name": "Preconfigured", "type": "elasticsearch", "hosts": []any{"https://pre.example:9200"}}},
		AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "managed", Name: "Managed", IsManaged: true}, {ID: "ui-made", Name: "Made in the UI"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := h.kb.CreateOutput(ctx, map[string]any{"id": "ui-logstash", "name": "UI logstash", "type": "logstash", "hosts": []any{"ls.example:5044"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.kb.InstallPackage(ctx, "nginx", "2.1.0", false); err != nil {
		t.Fatal(err)
	}
	// Owned: applied from a document that is then reduced.
	// Owned: applied from a document, then left out of it (prune is off).
	doc := &schema.Document{Packages: []schema.Package{{Name: "nginx", Version: "2.1.0"}},
		AgentPolicies: []schema.AgentPolicy{{ID: "owned", Name: "Owned", Namespace: "default"}}}
	h.apply(&schema.Document{Packages: doc.Packages,
		AgentPolicies: append(doc.AgentPolicies, schema.AgentPolicy{ID: "leftover", Name: "Leftover", Namespace: "default"})})
	p := h.plan(doc)
	var got []string
	for _, o := range p.Unmanaged.Objects {
		got = append(got, o.Kind+"/"+o.ID)
	}
	want := []string{"agent_policy/ui-made", "output/fleet-default-output", "output/ui-logstash"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unmanaged = %v, want %v", got, want)
	}
	if p.Unmanaged.Counts[plan.KindOutput] != 2 || p.Unmanaged.Counts[plan.KindAgentPolicy] != 1 {
		t.Errorf("counts = %v", p.Unmanaged.Counts)
	}
	text := renderText(p)
	if !strings.Contains(text, "3 objects in Fleet are neither declared nor owned here (2 outputs, 1 agent policy).") ||
		strings.Contains(text, `output "ui-logstash"`) {
		t.Errorf("text view without --show-unmanaged:\n%s", text)
	}
	p.ListUnmanaged()
	text = renderText(p)
	for _, line := range []string{`  output "ui-logstash" (UI logstash)`, `  agent_policy "ui-made" (Made in the UI)`,
		"Take them over with fleetform import --select ui-made,fleet-default-output,ui-logstash"} {
		if !strings.Contains(text, line) {
			t.Errorf("text view with --show-unmanaged lacks %q:\n%s", line, text)
		}
	}
	// Unmanaged objects never make a plan non-empty.
	if !p.Empty() {
		t.Errorf("plan has changes: %v", p.Changes)
	}
}
