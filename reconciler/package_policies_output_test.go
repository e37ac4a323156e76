package reconciler

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// ipBodySpy is the Kibana client keeping the integration-policy bodies it
// sends.
type ipBodySpy struct {
	*kibana.Client
	creates, updates []map[string]any
}

func (s *ipBodySpy) CreateIntegrationPolicy(ctx context.Context, body map[string]any) (kibana.IntegrationPolicy, error) {
	s.creates = append(s.creates, body)
	return s.Client.CreateIntegrationPolicy(ctx, body)
}

func (s *ipBodySpy) UpdateIntegrationPolicy(ctx context.Context, id string, body map[string]any) (kibana.IntegrationPolicy, error) {
	s.updates = append(s.updates, body)
	return s.Client.UpdateIntegrationPolicy(ctx, id, body)
}

func (h *simHarness) spyIntegrationPolicyBodies() *ipBodySpy {
	spy := &ipBodySpy{Client: h.kb}
	h.connect(func(c *Config) { c.Fleet = spy })
	return spy
}

// output_id: null clears an integration's output. Kibana's update takes
// null (output_id: schema.maybe(schema.oneOf([schema.literal(null),
// schema.string()])), FLEET/server/types/models/package_policy.ts), passes
// it through simplifiedPackagePolicytoNewPackagePolicy
// (FLEET/common/services/simplified_package_policy_helper.ts) and stores it
// (the saved-object update in FLEET/server/services/package_policy.ts); an
// absent output_id is left out of that partial update and keeps Kibana's.
func TestSim_IntegrationPolicy_OutputIDNullClears(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	doc := &schema.Document{
		Outputs:       []schema.Output{{ID: "es-logs", Name: "es logs", Type: "elasticsearch", Hosts: []string{"https://logs.example:9200"}}},
		AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{{ID: "n1", Name: "n1", Namespace: "default", OutputID: schema.Some("es-logs"),
			Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: []string{"web"}}},
	}
	h.apply(doc)
	if got := h.integrationPolicy("n1").OutputID; got == nil || *got != "es-logs" {
		t.Fatalf("output_id after create = %v", got)
	}

	// Cleared: the plan shows "es-logs" -> null, apply sends null.
	doc.PackagePolicies[0].OutputID = schema.Null[string]()
	p := h.plan(doc)
	ch := changeOf(p, KindIntegrationPolicy, "n1")
	if ch == nil || ch.Action != plan.Update || len(ch.Fields) != 1 || ch.Fields[0].Path != "output_id" || ch.Fields[0].Before != "es-logs" || ch.Fields[0].After != nil {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	if text := renderText(p); !strings.Contains(text, `- output_id = "es-logs" -> null`) {
		t.Errorf("plan text lacks the clearing line:\n%s", text)
	}
	spy := h.spyIntegrationPolicyBodies()
	h.apply(doc)
	if len(spy.updates) != 1 {
		t.Fatalf("updates sent: %v", spy.updates)
	}
	if v, ok := spy.updates[0]["output_id"]; !ok || v != nil {
		t.Errorf("update body output_id = %v (present %v), want null", v, ok)
	}
	if got := h.integrationPolicy("n1"); got.OutputID != nil {
		t.Errorf("output_id after clearing = %q", *got.OutputID)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after clearing:\n%s", renderText(p))
	}

	// Absent is not managed: an output set by hand stays, and no update
	// sends null for it.
	doc.PackagePolicies[0].OutputID = schema.Nullable[string]{}
	if _, err := h.kb.UpdateIntegrationPolicy(context.Background(), "n1", map[string]any{"name": "n1", "package": map[string]any{"name": "nginx", "version": "2.1.0"},
		"inputs": map[string]any{}, "output_id": "es-logs"}); err != nil {
		t.Fatal(err)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("an undeclared output_id shows in the plan:\n%s", renderText(p))
	}
	desc := "d"
	doc.PackagePolicies[0].Description = &desc
	spy.updates = nil
	h.apply(doc)
	if _, ok := spy.updates[0]["output_id"]; ok {
		t.Errorf("an update sent the undeclared output_id: %v", spy.updates[0])
	}
	if got := h.integrationPolicy("n1").OutputID; got == nil || *got != "es-logs" {
		t.Errorf("an update without output_id changed it: %v", got)
	}
}

// Declared null from the start: nothing to clear, so the create sends no
// output_id (Kibana's default) and the plan lists none; the policy then
// plans empty. An update of a policy without an output sends no null
// either, so a Kibana without per-integration outputs never sees the key.
func TestSim_IntegrationPolicy_OutputIDNullOnCreate(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	doc := &schema.Document{
		AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{{ID: "n1", Name: "n1", Namespace: "default", OutputID: schema.Null[string](),
			Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: []string{"web"}}},
	}
	p := h.plan(doc)
	ch := changeOf(p, KindIntegrationPolicy, "n1")
	if ch == nil || ch.Action != plan.Create || slices.ContainsFunc(ch.Fields, func(f plan.FieldDiff) bool { return f.Path == "output_id" }) {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	spy := h.spyIntegrationPolicyBodies()
	h.apply(doc)
	if len(spy.creates) != 1 {
		t.Fatalf("creates sent: %v", spy.creates)
	}
	if _, ok := spy.creates[0]["output_id"]; ok {
		t.Errorf("create body = %v, want one without output_id", spy.creates[0])
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after create:\n%s", renderText(p))
	}
	desc := "d"
	doc.PackagePolicies[0].Description = &desc
	h.apply(doc)
	if len(spy.updates) != 1 {
		t.Fatalf("updates sent: %v", spy.updates)
	}
	if _, ok := spy.updates[0]["output_id"]; ok {
		t.Errorf("update sent output_id with nothing to clear: %v", spy.updates[0])
	}
}

// The diff of a declared null against each observed output_id.
func TestIntegrationPolicyDiff_OutputID(t *testing.T) {
	es := "es-logs"
	empty := ""
	tests := []struct {
		name     string
		declared schema.Nullable[string]
		observed *string
		want     []plan.FieldDiff
	}{
		{"absent is not compared", schema.Nullable[string]{}, &es, nil},
		{"null clears", schema.Null[string](), &es, []plan.FieldDiff{{Path: "output_id", Before: "es-logs", After: nil}}},
		{"null and none", schema.Null[string](), nil, nil},
		{"null and an empty id", schema.Null[string](), &empty, []plan.FieldDiff{{Path: "output_id", Before: "", After: nil}}},
		{"set", schema.Some("es-logs"), nil, []plan.FieldDiff{{Path: "output_id", Before: nil, After: "es-logs"}}},
		{"same", schema.Some("es-logs"), &es, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := schema.PackagePolicy{ID: "n1", OutputID: tt.declared}
			have := kibana.IntegrationPolicy{ID: "n1", OutputID: tt.observed}
			got, err := diffIntegrationPolicy(integrationPolicyFields(p), have)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || (len(got) == 1 && (got[0].Path != tt.want[0].Path || got[0].Before != tt.want[0].Before || got[0].After != tt.want[0].After)) {
				t.Errorf("diff = %+v, want %+v", got, tt.want)
			}
		})
	}
}
