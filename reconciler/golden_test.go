package reconciler

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/fleetform/fleetform/internal/golden"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// TestSim_PlanGolden pins the first plan of the multi-output example against
// a fresh simulator, and the plan after one change of each kind, in every
// view. The plan is total-ordered, so the files are stable.
func TestSim_PlanGolden(t *testing.T) {
	doc := loadExample(t, "../examples/multi-output")
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	for _, o := range doc.Outputs {
		for _, sp := range secretSpecs(o) {
			h.secrets[describeRef(sp.Ref)] = "value-of-" + describeRef(sp.Ref)
		}
	}
	seed := &fleetsim.ClusterSeed{AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "fleet-server-policy", Name: "Fleet Server Policy", Namespace: "default", HasFleetServer: true}}}
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	first := h.plan(doc)
	h.apply(doc)
	// Edit: a host, a secret reference, a policy's output; drop a policy (prune).
	doc.Outputs[2].Hosts = []string{"logstash-1.example.internal:5044"}
	doc.Outputs[1].ServiceToken = &schema.SecretRef{Env: "WEST_SERVICE_TOKEN_V2"}
	h.secrets["env:WEST_SERVICE_TOKEN_V2"] = "rotated-token-value"
	doc.AgentPolicies[0].DataOutputID = ptr("main-es")
	doc.AgentPolicies = append(doc.AgentPolicies[:2], doc.AgentPolicies[3:]...)
	h.connect(func(c *Config) { c.Prune = true })
	second := h.plan(doc)
	for name, p := range map[string]*plan.Plan{"multi-output-first": first, "multi-output-edit": second} {
		p.Fingerprint = "sha256:(varies)"
		for ext, write := range map[string]func(*bytes.Buffer, *plan.Plan) error{
			"txt": func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteText(b, p) },
			"md":  func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteMarkdown(b, p) },
		} {
			var buf bytes.Buffer
			if err := write(&buf, p); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+"."+ext+".golden"), buf.Bytes())
		}
	}
}
