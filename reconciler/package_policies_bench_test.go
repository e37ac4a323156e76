package reconciler

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
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

// TestIntegrationPolicyFleet_PlanBudgetAndSecondApply holds the
// benchmark's fleet to issue 12's budget in counts, which load does not
// move: a plan sends at most 15 requests, each list walked once (every
// page read once: agent policies 2, integration policies 4), and a second
// apply of everything writes nothing to Kibana or to the state index and
// bumps no agent or integration policy's revision.
func TestIntegrationPolicyFleet_PlanBudgetAndSecondApply(t *testing.T) {
	if testing.Short() {
		t.Skip("large fleet")
	}
	h, doc := integrationPolicyFleet(t)
	h.t = t
	ctx := context.Background()
	h.sim.ClearRequests()
	if p, err := h.r.Plan(ctx, doc, "rev"); err != nil || !p.Empty() {
		t.Fatalf("plan: %v\n%s", err, renderText(p))
	}
	reqs := h.sim.Requests()
	var sent []string
	pages := map[string]map[string]int{} // Kibana GET path → page → times
	for _, r := range reqs {
		sent = append(sent, r.Method+" "+r.Path+"?"+r.Query)
		if r.Listener != "kibana" || r.Method != "GET" {
			continue
		}
		q, err := url.ParseQuery(r.Query)
		if err != nil {
			t.Fatal(err)
		}
		if pages[r.Path] == nil {
			pages[r.Path] = map[string]int{}
		}
		pages[r.Path][q.Get("page")]++
	}
	if len(reqs) > 15 {
		t.Errorf("plan sent %d requests, budget 15:\n%s", len(reqs), strings.Join(sent, "\n"))
	}
	for path, byPage := range pages {
		for page, n := range byPage {
			if n != 1 {
				t.Errorf("GET %s page %q read %d times in one plan, want once:\n%s", path, page, n, strings.Join(sent, "\n"))
			}
		}
	}
	for path, want := range map[string]int{"/api/fleet/agent_policies": 2, "/api/fleet/package_policies": 4} {
		if got := len(pages[path]); got != want {
			t.Errorf("GET %s: %d pages, want %d (one walk of 1,000 a page)", path, got, want)
		}
	}

	agentRevs, ipRevs := h.revisions(), integrationPolicyRevisions(t, h)
	h.sim.ClearRequests()
	if _, err := h.r.Apply(ctx, doc, nil, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range h.sim.Requests() {
		if r.Method == "GET" || r.Method == "HEAD" || strings.HasPrefix(r.Path, "/_sim") {
			continue
		}
		// The state index is read with point-in-time searches: opening
		// and closing a point in time and searching are not writes.
		read := r.Listener == "es" && (strings.HasSuffix(r.Path, "/_search") || strings.HasSuffix(r.Path, "/_pit") || r.Path == "/_pit")
		if !read {
			t.Errorf("second apply wrote: %s %s (%s)", r.Method, r.Path, r.Listener)
		}
	}
	if after := h.revisions(); !mapsEqual(agentRevs, after) {
		t.Error("second apply bumped agent policy revisions")
	}
	if after := integrationPolicyRevisions(t, h); !mapsEqual(ipRevs, after) {
		t.Error("second apply bumped integration policy revisions")
	}
}

func integrationPolicyRevisions(t *testing.T, h *simHarness) map[string]int {
	t.Helper()
	pps, err := h.kb.ListIntegrationPolicies(context.Background(), kibana.IntegrationPolicyListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]int, len(pps))
	for _, p := range pps {
		out[p.ID] = p.Revision
	}
	if len(out) != 4000 {
		t.Fatalf("%d integration policies listed, want 4000", len(out))
	}
	return out
}
