package reconciler

import (
	"context"
	"sync"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// A type change away from remote_elasticsearch must not send the old type's
// secret back as {"id": …}: the new type has no such secret path, and
// Kibana deletes the secrets of the old type (fleet-api.md §2.7, §2.8 step 6).
// The plan says the secret goes.
func TestSim_TypeChangeDropsSecretsOfTheOldType(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{{ID: "out", Name: "out", Type: "remote_elasticsearch",
		Hosts: []string{"https://es.west.example"}, Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN")}}}}
	h.apply(doc)
	oldID := h.output("out").SecretID("service_token")
	if oldID == "" {
		t.Fatal("token not stored as a Fleet secret")
	}
	doc.Outputs[0].Type = "elasticsearch"
	doc.Outputs[0].Secrets = nil
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Update {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	var shown bool
	for _, f := range p.Changes[0].Fields {
		if f.Path == "secrets.service_token" && f.Sensitive && f.After == nil && f.Before == plan.Sensitive {
			shown = true
		}
	}
	if !shown {
		t.Errorf("plan does not show secrets.service_token deleted by the type change:\n%s", renderText(p))
	}
	rec := &putRecorder{Client: h.kb}
	h.connect(func(c *Config) { c.Fleet = rec })
	h.apply(doc)
	if len(rec.bodies) != 1 {
		t.Fatalf("%d output PUTs, want 1", len(rec.bodies))
	}
	if o := h.output("out"); o["type"] != "elasticsearch" {
		t.Errorf("output after type change: %v", map[string]any(o))
	}
	if _, ok := h.main.ES().GetDoc(".fleet-secrets", oldID); ok {
		t.Error("old type's secret left in .fleet-secrets")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after type change:\n%s", renderText(p))
	}
	// Kibana may leave the deleted secret's reference in the saved object
	// (§2.7: partial update); a later PUT must not send it back either.
	doc.Outputs[0].Hosts = []string{"https://es2.west.example"}
	h.apply(doc)
	for i, b := range rec.bodies {
		if got := kibana.Output(b).Field("secrets.service_token"); got != nil {
			t.Errorf("PUT %d to an elasticsearch output sent secrets.service_token: %v", i, got)
		}
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after the host change:\n%s", renderText(p))
	}
}

// putRecorder records the bodies of output PUTs on their way to Kibana.
type putRecorder struct {
	*kibana.Client
	mu     sync.Mutex
	bodies []map[string]any
}

func (p *putRecorder) UpdateOutput(ctx context.Context, id string, body map[string]any) (kibana.Output, error) {
	p.mu.Lock()
	p.bodies = append(p.bodies, clone(body))
	p.mu.Unlock()
	return p.Client.UpdateOutput(ctx, id, body)
}
