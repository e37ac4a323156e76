package reconciler

import (
	"context"
	"fmt"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

// BenchmarkPlan plans against fleetsim holding 50 outputs, 2,000 agent
// policies and 100 installed packages, all declared and owned (the steady
// state of a large fleet: the plan is empty). It reports HTTP requests per
// plan (target ≤ 25), ns/op and allocations. Every policy sets
// data_output_id, so each plan also reads the main cluster's licence
// (GET /_license): 6 requests; a document without per-policy outputs needs 5.
func BenchmarkPlan(b *testing.B) {
	h, doc := largeFleet(b)
	ctx := context.Background()
	if p, err := h.r.Plan(ctx, doc, "bench"); err != nil || !p.Empty() {
		b.Fatalf("warm-up plan: err=%v empty=%v\n%s", err, p != nil && p.Empty(), renderText(p))
	}
	h.sim.ClearRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.r.Plan(ctx, doc, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(h.sim.Requests()))/float64(b.N), "requests/plan")
}

// largeFleet seeds fleetsim with the benchmark's fleet and records it as
// owned in the state index, so that plans compare every object.
func largeFleet(tb testing.TB) (*simHarness, *schema.Document) {
	tb.Helper()
	sim := fleetsim.StartTest(tb, fleetsim.Options{})
	h := &simHarness{sim: sim, main: sim.Cluster("main"), secrets: map[string]string{}}
	doc := &schema.Document{}
	seed := &fleetsim.ClusterSeed{}
	for i := range 50 {
		id := fmt.Sprintf("out-%02d", i)
		o := map[string]any{"id": id, "name": id, "type": "elasticsearch", "hosts": []any{fmt.Sprintf("https://es%02d.example:443", i)}, "preset": "balanced",
			"is_default": false, "is_default_monitoring": false}
		seed.Outputs = append(seed.Outputs, o)
		doc.Outputs = append(doc.Outputs, schema.Output{ID: id, Name: id, Type: "elasticsearch", Hosts: []string{fmt.Sprintf("https://es%02d.example", i)}})
	}
	for i := range 2000 {
		id := fmt.Sprintf("policy-%04d", i)
		out := fmt.Sprintf("out-%02d", i%50)
		seed.AgentPolicies = append(seed.AgentPolicies, fleetsim.SeedAgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default", DataOutputID: &out})
		doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default", DataOutputID: &out})
	}
	yes := true
	for i := range 100 {
		name := fmt.Sprintf("pkg_%03d", i)
		seed.Packages = append(seed.Packages, fleetsim.SeedPackage{Name: name, Version: "1.0.0", Source: "upload", HasIndexTemplates: &yes})
		doc.Packages = append(doc.Packages, schema.Package{Name: name, Version: "1.0.0"})
	}
	if err := sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		tb.Fatal(err)
	}
	h.kb = mustKibana(tb, h.main)
	es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		tb.Fatal(err)
	}
	h.inv = StateInventory(state.NewStore(es, "", ""))
	// As Connect: the licence is read from Elasticsearch, here once per plan
	// because every policy declares a per-policy output.
	r, err := New(Config{Fleet: h.kb, Inventory: h.inv, Hasher: StateHasher{}, License: es, Concurrency: 8}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	h.r = r
	// Own everything (as after a first apply).
	if _, err := r.Apply(context.Background(), doc, nil, ApplyOptions{}); err != nil {
		tb.Fatal(err)
	}
	return h, doc
}
