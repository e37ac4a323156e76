package reconciler

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

// BenchmarkPlan_IntegrationPolicies plans against fleetsim holding 2,000
// agent policies and 4,000 integration policies (two per agent policy,
// alternately nginx with a declared stream var and system), all declared
// and owned: the plan is empty. Integration policies are read with one
// paged list call (4 requests of 1,000); it reports requests per plan,
// list requests of package_policies per plan, and ns/op.
func BenchmarkPlan_IntegrationPolicies(b *testing.B) {
	h, doc := integrationPolicyFleet(b)
	ctx := context.Background()
	if p, err := h.r.Plan(ctx, doc, "bench"); err != nil || !p.Empty() {
		b.Fatalf("warm-up plan: err=%v\n%s", err, renderText(p))
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
	lists := 0
	for _, r := range h.sim.Requests() {
		if r.Path == "/api/fleet/package_policies" && r.Method == "GET" && strings.Contains(r.Query, "format=simplified") {
			lists++
		}
	}
	b.ReportMetric(float64(len(h.sim.Requests()))/float64(b.N), "requests/plan")
	b.ReportMetric(float64(lists)/float64(b.N), "package_policy-lists/plan")
	if lists != 4*b.N {
		b.Errorf("%d package_policies list requests for %d plans, want 4 per plan", lists, b.N)
	}
}

func integrationPolicyFleet(tb testing.TB) (*simHarness, *schema.Document) {
	tb.Helper()
	sim := fleetsim.StartTest(tb, fleetsim.Options{})
	h := &simHarness{sim: sim, main: sim.Cluster("main"), secrets: map[string]string{}}
	doc := &schema.Document{}
	seed := &fleetsim.ClusterSeed{}
	for i := range 2000 {
		id := fmt.Sprintf("policy-%04d", i)
		seed.AgentPolicies = append(seed.AgentPolicies, fleetsim.SeedAgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default"})
		doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: id, Name: "Policy " + id, Namespace: "default"})
	}
	if err := sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		tb.Fatal(err)
	}
	for i := range 4000 {
		pp := schema.PackagePolicy{ID: fmt.Sprintf("pp-%04d", i), Name: fmt.Sprintf("pp-%04d", i), Namespace: "default",
			PolicyIDs: []string{fmt.Sprintf("policy-%04d", i/2)}}
		if i%2 == 0 {
			pp.Package = &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}
			pp.Inputs = map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
				"nginx.access": {Vars: schema.Vars{"paths": []any{fmt.Sprintf("/srv/%d/access.log", i)}}}}}}
		} else {
			pp.Package = &schema.PackagePolicyPackage{Name: "system", Version: "2.0.0"}
		}
		doc.PackagePolicies = append(doc.PackagePolicies, pp)
	}
	h.kb = mustKibana(tb, h.main)
	es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		tb.Fatal(err)
	}
	h.inv = StateInventory(state.NewStore(es, "", ""))
	r, err := New(Config{Fleet: h.kb, Inventory: h.inv, Hasher: StateHasher{}, License: es, Concurrency: 8}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	h.r = r
	if _, err := r.Apply(context.Background(), doc, nil, ApplyOptions{}); err != nil {
		tb.Fatal(err)
	}
	return h, doc
}
