package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Outputs' refusals against fleetsim, as Kibana's output service
// (x-pack/platform/plugins/shared/fleet/server/services/output.ts, delete
// and update) words them. The same rules against the in-memory fake are in
// reconciler_test.go; these run them through fleetsim's HTTP API.

// TestSim_Output_PruneRefusals mirrors output.ts delete: "Preconfigured
// output <id> cannot be deleted outside of kibana config file.", "Default
// output <id> cannot be deleted.", "Default monitoring output <id> cannot
// be deleted.". An owned output in any of these states is blocked in the
// plan with Kibana's message and stays in Fleet; an ordinary owned output
// in the same plan is deleted.
func TestSim_Output_PruneRefusals(t *testing.T) {
	h := newSimHarness(t)
	ctx := context.Background()
	seed := &fleetsim.ClusterSeed{Outputs: []map[string]any{{
		"id": "yml", "name": "from kibana.yml", "type": "elasticsearch", "hosts": []any{"https://yml.example:9200"}, "is_preconfigured": true,
	}}}
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{Outputs: []schema.Output{
		{ID: "yml", Name: "from kibana.yml", Type: "elasticsearch", Hosts: []string{"https://yml.example:9200"}},
		{ID: "data", Name: "data", Type: "elasticsearch", Hosts: []string{"https://data.example:9200"}, IsDefault: ptr(true)},
		{ID: "mon", Name: "mon", Type: "elasticsearch", Hosts: []string{"https://mon.example:9200"}, IsDefaultMonitoring: ptr(true)},
		{ID: "plain", Name: "plain", Type: "logstash", Hosts: []string{"ls.example:5044"}},
	}}
	h.lifecycleApply("create", doc, ApplyOptions{})

	h.connect(func(c *Config) { c.Prune = true })
	p := h.plan(&schema.Document{})
	for id, want := range map[string]string{
		"yml":  "Preconfigured output yml cannot be deleted outside of kibana config file.",
		"data": "Default output data cannot be deleted.",
		"mon":  "Default monitoring output mon cannot be deleted.",
	} {
		if c := change(t, p, plan.KindOutput, id); c.Action != plan.Blocked || !strings.Contains(c.Reason, want) {
			t.Errorf("prune of %s: want blocked with %q, got %s: %s", id, want, c.Action, c.Reason)
		}
	}
	if c := change(t, p, plan.KindOutput, "plain"); c.Action != plan.Delete {
		t.Errorf("prune of plain: %+v", c)
	}
	if _, err := h.r.Apply(ctx, &schema.Document{}, nil, ApplyOptions{Prune: true}); err == nil {
		t.Fatal("apply with blocked deletes reported success")
	}
	for _, id := range []string{"yml", "data", "mon"} {
		if _, err := h.kb.GetOutput(ctx, id); err != nil {
			t.Errorf("blocked output %s was deleted: %v", id, err)
		}
	}
	if _, err := h.kb.GetOutput(ctx, "plain"); err == nil {
		t.Error("plain output not pruned")
	}
}

// TestSim_Output_UnsettingTheDefaultIsBlocked mirrors output.ts update:
// "Default output <id> cannot be set to is_default=false or
// is_default_monitoring=false manually. Make another output the default
// first." Declaring is_default: false (or is_default_monitoring: false) on
// the current default, with no other output taking it, is blocked with
// Kibana's message, and nothing is sent.
func TestSim_Output_UnsettingTheDefaultIsBlocked(t *testing.T) {
	for _, flag := range []string{"is_default", "is_default_monitoring"} {
		t.Run(flag, func(t *testing.T) {
			h := newSimHarness(t)
			o := schema.Output{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example:9200"}}
			set := func(v bool) {
				if flag == "is_default" {
					o.IsDefault = ptr(v)
				} else {
					o.IsDefaultMonitoring = ptr(v)
				}
			}
			set(true)
			h.lifecycleApply("create", &schema.Document{Outputs: []schema.Output{o}}, ApplyOptions{})
			set(false)
			doc := &schema.Document{Outputs: []schema.Output{o}}
			c := change(t, h.plan(doc), plan.KindOutput, "es")
			if c.Action != plan.Blocked || !strings.Contains(c.Reason, "Default output es cannot be set to is_default=false or is_default_monitoring=false manually. Make another output the default first.") {
				t.Fatalf("want blocked with Kibana's message: %s: %s", c.Action, c.Reason)
			}
			h.sim.ClearRequests()
			if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{}); err == nil {
				t.Fatal("apply of a blocked plan reported success")
			}
			if w := h.writes(); len(w) != 0 {
				t.Errorf("blocked change sent: %v", w)
			}
			if got := h.output("es")[flag]; got != true {
				t.Errorf("%s = %v after the blocked apply", flag, got)
			}
		})
	}
}
