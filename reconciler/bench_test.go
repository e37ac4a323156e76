package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

// BenchmarkPlan plans against fleetsim holding 20 proxies, 20 Fleet Server
// hosts, 50 outputs, 2,000 agent policies and 100 installed packages, all
// declared and owned (the steady state of a large fleet: the plan is
// empty). It reports HTTP requests per plan (budget ≤ 15: one list call per
// kind, agent policies paged), ns/op and allocations. Every policy sets
// data_output_id, so each plan also reads the main cluster's licence
// (GET /_license); the download sources are listed because proxies are
// declared (a proxy's delete reads the sources that use it).
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

// TestLargeFleet_PlanBudgetAndSecondApply: the benchmark's fleet is
// planned with at most 15 HTTP requests, one list call per kind, and a
// second apply sends no write and bumps no agent policy's revision.
func TestLargeFleet_PlanBudgetAndSecondApply(t *testing.T) {
	if testing.Short() {
		t.Skip("large fleet")
	}
	h, doc := largeFleet(t)
	h.t = t
	h.sim.ClearRequests()
	if p, err := h.r.Plan(context.Background(), doc, "rev"); err != nil || !p.Empty() {
		t.Fatalf("plan: %v\n%s", err, renderText(p))
	}
	lists := map[string]int{}
	for _, r := range h.sim.Requests() {
		lists[r.Method+" "+r.Path]++
	}
	t.Logf("plan requests: %d %v", len(h.sim.Requests()), lists)
	if n := len(h.sim.Requests()); n > 15 {
		t.Errorf("plan sent %d requests, budget 15: %v", n, lists)
	}
	for _, path := range []string{"/api/fleet/outputs", "/api/fleet/proxies", "/api/fleet/fleet_server_hosts", "/api/fleet/agent_download_sources", "/api/fleet/epm/packages"} {
		if lists["GET "+path] != 1 {
			t.Errorf("GET %s sent %d times, want once: %v", path, lists["GET "+path], lists)
		}
	}
	revs := h.revisions()
	h.sim.ClearRequests()
	if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range h.writes() {
		// The state index is read with point-in-time searches (POST).
		if strings.Contains(w, "/api/") || strings.Contains(w, "_doc") || strings.Contains(w, "_bulk") || strings.Contains(w, "_update") {
			t.Errorf("second apply wrote: %s", w)
		}
	}
	if after := h.revisions(); !mapsEqual(revs, after) {
		t.Error("second apply bumped agent policy revisions")
	}
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
	for i := range 20 {
		id := fmt.Sprintf("proxy-%02d", i)
		doc.Proxies = append(doc.Proxies, schema.Proxy{ID: id, Name: id, URL: fmt.Sprintf("http://proxy%02d.example:3128", i)})
		fs := fmt.Sprintf("fs-%02d", i)
		doc.FleetServerHosts = append(doc.FleetServerHosts, schema.FleetServerHost{ID: fs, Name: fs,
			HostURLs: []string{fmt.Sprintf("https://fs%02d.example:8220", i)}, IsDefault: ptr(i == 0), ProxyID: &id})
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

// BenchmarkFingerprint_AgentPolicies2000 digests an observation of 2,000
// agent policies as fleetsim lists them (computeFingerprint, which every
// plan and apply runs).
func BenchmarkFingerprint_AgentPolicies2000(b *testing.B) {
	obs := &observation{policies: map[string]kibana.AgentPolicy{}}
	for i := range 2000 {
		raw, _ := json.Marshal(map[string]any{
			"id": fmt.Sprintf("policy-%04d", i), "name": fmt.Sprintf("Policy %d", i), "namespace": "default",
			"description": "benchmark", "data_output_id": fmt.Sprintf("out-%02d", i%50), "monitoring_output_id": nil, "revision": 3,
			"is_managed": false, "is_protected": false, "status": "active", "inactivity_timeout": 1209600,
			"updated_at": "2026-11-27T12:00:00.000Z", "updated_by": "elastic", "schema_version": "1.1.1",
			"monitoring_enabled": []string{"logs", "metrics"}, "space_ids": []string{"default"},
			"advanced_settings": map[string]any{"agent_logging_level": "info"},
		})
		var p kibana.AgentPolicy
		if err := json.Unmarshal(raw, &p); err != nil {
			b.Fatal(err)
		}
		obs.policies[p.ID] = p
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = obs.computeFingerprint()
	}
}
