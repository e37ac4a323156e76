package reconciler

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
)

// TestSim_IntegrationPolicy_GenerateIsBlocked: only output credentials are
// minted; a secret variable of an integration policy declared
// generate: true is blocked in the plan, naming its path, and apply sends
// no integration-policy write.
func TestSim_IntegrationPolicy_GenerateIsBlocked(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise", SecretStorage: "on"})
	doc := ipDoc()
	doc.PackagePolicies[0].Inputs["nginx-httpjson"].Vars["password"] = map[string]any{"generate": true}
	c := change(t, h.plan(doc), KindIntegrationPolicy, "nginx-web")
	if c.Action != plan.Blocked || !strings.Contains(c.Reason, "is declared generate: true; only output credentials are generated") || !strings.Contains(c.Reason, "password") {
		t.Fatalf("want blocked naming the variable: %s: %s", c.Action, c.Reason)
	}
	h.sim.ClearRequests()
	if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{}); err == nil {
		t.Fatal("apply of a blocked plan reported success")
	}
	for _, w := range h.writes() {
		if strings.Contains(w, "package_policies") {
			t.Errorf("blocked integration policy written: %s", w)
		}
	}
	if _, err := h.kb.GetIntegrationPolicy(context.Background(), "nginx-web"); err == nil {
		t.Error("blocked integration policy exists")
	}
}
