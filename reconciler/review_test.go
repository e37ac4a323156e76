package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
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

// Deleting an output resets the data_output_id / monitoring_output_id of
// every agent policy using it to the default (fleet-api.md §2.9 step 6,
// trap 13). For policies fleetform does not declare, the plan says so.
func TestSim_PruneOutputShowsUndeclaredPoliciesKibanaResets(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{{ID: "old", Name: "old", Type: "elasticsearch", Hosts: []string{"https://old.example"}}}}
	h.apply(doc)
	ctx := context.Background()
	if _, err := h.kb.CreateAgentPolicy(ctx, map[string]any{"id": "theirs", "name": "Theirs", "namespace": "default", "monitoring_output_id": "old"}); err != nil {
		t.Fatal(err)
	}
	doc.Outputs = nil
	h.connect(func(c *Config) { c.Prune = true })
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Delete {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	if r := p.Changes[0].Reason; !strings.Contains(r, `agent policy theirs ("Theirs")`) || !strings.Contains(r, "monitoring_output_id") {
		t.Errorf("delete reason does not name the policy Kibana resets: %q", r)
	}
	h.apply(doc)
	if pol, err := h.kb.GetAgentPolicy(ctx, "theirs"); err != nil || pol.MonitoringOutputID != nil {
		t.Errorf("policy after the delete: %+v, %v", pol.MonitoringOutputID, err)
	}
}

// A Fleet Server policy fleetform does not declare, using the pruned output,
// would fall back to a remote_elasticsearch default: Kibana refuses the
// whole delete (trap 13), so the plan blocks it.
func TestSim_PruneOutputBlockedByUndeclaredFleetServerPolicy(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{
		{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example"}},
		{ID: "remote", Name: "remote", Type: "remote_elasticsearch", Hosts: []string{"https://remote.example"}, IsDefault: ptr(true),
			Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN")}},
	}}
	h.apply(doc)
	ctx := context.Background()
	if _, err := h.kb.CreateAgentPolicy(ctx, map[string]any{"id": "fs", "name": "FS", "namespace": "default", "has_fleet_server": true, "data_output_id": "es"}); err != nil {
		t.Fatal(err)
	}
	doc.Outputs = doc.Outputs[1:]
	h.connect(func(c *Config) { c.Prune = true })
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked || !strings.Contains(p.Changes[0].Reason, `Output of type "remote_elasticsearch" is not usable with policy "FS"`) {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

// Pruning the old default output in the plan that makes another declared
// output the default: the delete waits for the new default, then succeeds
// in the same apply (no second apply needed, never a state without default).
func TestSim_PruneOldDefaultWhileTheDefaultMoves(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{{ID: "a", Name: "a", Type: "elasticsearch", Hosts: []string{"https://a.example"},
		IsDefault: ptr(true), IsDefaultMonitoring: ptr(true)}}}
	h.apply(doc)
	doc.Outputs = []schema.Output{{ID: "b", Name: "b", Type: "elasticsearch", Hosts: []string{"https://b.example"},
		IsDefault: ptr(true), IsDefaultMonitoring: ptr(true)}}
	h.connect(func(c *Config) { c.Prune = true })
	p := h.plan(doc)
	var del *plan.Change
	for i := range p.Changes {
		if p.Changes[i].ID == "a" {
			del = &p.Changes[i]
		}
	}
	if del == nil || del.Action != plan.Delete {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	if !slices.Contains(del.DependsOn, plan.Key("main", plan.KindOutput, "b")) {
		t.Errorf("delete of a does not wait for the new default b: %v", del.DependsOn)
	}
	h.apply(doc)
	if _, err := h.kb.GetOutput(context.Background(), "a"); !kibana.IsNotFound(err) {
		t.Errorf("old default a still there: %v", err)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("second plan:\n%s", renderText(p))
	}
}

// A policy revision moves whenever anyone edits the policy's integrations
// (or Kibana bumps every policy); it changes nothing a plan depends on, so
// it must not make a saved plan stale. A plan-relevant change still does.
func TestSim_SavedPlanSurvivesARevisionBump(t *testing.T) {
	h := newRemoteHarness(t)
	ctx := context.Background()
	if _, err := h.kb.CreateAgentPolicy(ctx, map[string]any{"id": "theirs", "name": "Theirs", "namespace": "default"}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{Outputs: []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example"}}}}
	saved := h.plan(doc)
	before := h.revisions()["theirs"]
	if _, err := h.kb.UpdateAgentPolicy(ctx, "theirs", map[string]any{"name": "Theirs", "namespace": "default", "inactivity_timeout": 1209600}); err != nil {
		t.Fatal(err)
	}
	if h.revisions()["theirs"] == before {
		t.Fatal("fleetsim did not bump the revision; the test proves nothing")
	}
	if _, err := h.r.Apply(ctx, doc, saved, ApplyOptions{}); err != nil {
		t.Fatalf("saved plan refused after a revision bump: %v", err)
	}

	saved = h.plan(&schema.Document{Outputs: []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example"}}}})
	if _, err := h.kb.UpdateOutput(ctx, "es", map[string]any{"type": "elasticsearch", "hosts": []any{"https://other.example"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.Apply(ctx, doc, saved, ApplyOptions{}); !errors.Is(err, ErrStalePlan) {
		t.Fatalf("err = %v, want ErrStalePlan after the output changed", err)
	}
}

// A type change sends every declared field, not only the changed ones:
// Kibana nulls or re-defaults fields on a type change (fleet-api.md §2.8
// steps 6 and 11: to elasticsearch, a preset missing from the body is
// re-defaulted), so an unchanged declared preset must be in the PUT.
func TestSim_TypeChangeSendsEveryDeclaredField(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{{ID: "out", Name: "out", Type: "remote_elasticsearch",
		Hosts: []string{"https://es.west.example"}, Preset: "throughput"}}}
	h.apply(doc)
	doc.Outputs[0].Type = "elasticsearch"
	rec := &putRecorder{Client: h.kb}
	h.connect(func(c *Config) { c.Fleet = rec })
	h.apply(doc)
	if len(rec.bodies) != 1 {
		t.Fatalf("%d output PUTs, want 1", len(rec.bodies))
	}
	b := rec.bodies[0]
	for k, want := range map[string]any{"type": "elasticsearch", "preset": "throughput", "name": "out", "hosts": []any{"https://es.west.example:443"}} {
		if got := b[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("PUT body %s = %v, want %v", k, got, want)
		}
	}
}

// Making a remote_elasticsearch output the default pins the Fleet Server
// policies that follow the default to the previous default (trap 12); the
// plan says which, even for policies fleetform does not declare.
func TestSim_Trap12_PlanShowsPoliciesPinnedByANonESDefault(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example"}, IsDefault: ptr(true)}}}
	h.apply(doc)
	ctx := context.Background()
	if _, err := h.kb.CreateAgentPolicy(ctx, map[string]any{"id": "fs", "name": "FS", "namespace": "default", "has_fleet_server": true}); err != nil {
		t.Fatal(err)
	}
	doc.Outputs[0].IsDefault = nil
	doc.Outputs = append(doc.Outputs, schema.Output{ID: "remote", Name: "remote", Type: "remote_elasticsearch", Hosts: []string{"https://remote.example"},
		IsDefault: ptr(true), Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN")}})
	p := h.plan(doc)
	var note string
	for _, ch := range p.Changes {
		for _, f := range ch.Fields {
			if ch.ID == "remote" && f.Path == "is_default" {
				note = f.Note
			}
		}
	}
	if !strings.Contains(note, "pins data_output_id of agent policies fs to es") {
		t.Errorf("is_default note = %q\n%s", note, renderText(p))
	}
	h.apply(doc)
	if pol, err := h.kb.GetAgentPolicy(ctx, "fs"); err != nil || !ptrIs(pol.DataOutputID, "es") {
		t.Errorf("fs after the default moved: %v, %v (the note says what Kibana does)", pol.DataOutputID, err)
	}
}

// Two fleetform instances share the state index. An object one owns is left
// alone by the other: declaring it there is blocked (no flip-flopping of
// two desired states), and the other's --prune never deletes it.
func TestSim_StateIndexSecondInstanceLeavesAnOwnedObjectAlone(t *testing.T) {
	h := newRemoteHarness(t)
	es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")}, elastic.WithRetry(8, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h.inv = StateInventory(state.NewStore(es, "", "team-a"))
	h.connect()
	docA := &schema.Document{Outputs: []schema.Output{{ID: "shared", Name: "shared", Type: "elasticsearch", Hosts: []string{"https://a.example"}}}}
	h.apply(docA)

	h.inv = StateInventory(state.NewStore(es, "", "team-b"))
	h.connect(func(c *Config) { c.Prune = true })
	docB := &schema.Document{Outputs: []schema.Output{{ID: "shared", Name: "shared", Type: "elasticsearch", Hosts: []string{"https://b.example"}}}}
	p := h.plan(docB)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked || !strings.Contains(p.Changes[0].Reason, "fleetform instance team-a") {
		t.Fatalf("team-b plan:\n%s", renderText(p))
	}
	if _, err := h.r.Apply(context.Background(), docB, nil, ApplyOptions{}); !errors.Is(err, ErrNotConverged) {
		t.Fatalf("team-b apply: %v", err)
	}
	if got := h.output("shared")["hosts"]; fmt.Sprint(got) != "[https://a.example:443]" {
		t.Errorf("team-b changed team-a's output: hosts %v", got)
	}
	if p := h.plan(&schema.Document{}); !p.Empty() {
		t.Fatalf("team-b prune plan touches team-a's output:\n%s", renderText(p))
	}
}
