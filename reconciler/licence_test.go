package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// withLicense lets the harness's reconciler read the main cluster's licence
// from the simulator's Elasticsearch, as Connect does.
func (h *simHarness) withLicense() {
	h.t.Helper()
	es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")}, elastic.WithRetry(8, time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	h.connect(func(c *Config) { c.License = es })
}

// licenseRequests counts the GET /_license requests fleetsim saw.
func (h *simHarness) licenseRequests() int {
	n := 0
	for _, r := range h.sim.Requests() {
		if r.Listener == "es" && r.Path == "/_license" {
			n++
		}
	}
	return n
}

// Trap 15: below platinum, Kibana refuses an agent policy that sets
// data_output_id or monitoring_output_id with a 400. The plan blocks those
// policies with Kibana's reason before anything is written; Fleet Server
// and Synthetics policies are exempt; the licence is read only when a
// declared policy sets a per-policy output.
func TestSim_Trap15_PerPolicyOutputLicence(t *testing.T) {
	es2 := schema.Output{ID: "es2", Name: "es2", Type: "elasticsearch", Hosts: []string{"https://es2.example"}}
	tests := []struct {
		name        string
		license     string
		seed        *fleetsim.ClusterSeed
		policies    []schema.AgentPolicy
		wantBlocked []string // policy ids
		wantCreate  []string
		wantUpdate  []string
		wantLicReqs int // GET /_license per plan
	}{
		{name: "basic: per-policy output blocked, plain policy created", license: "basic",
			policies:    []schema.AgentPolicy{{ID: "p1", Name: "P1", Namespace: "default", DataOutputID: ptr("es2")}, {ID: "p2", Name: "P2", Namespace: "default"}},
			wantBlocked: []string{"p1"}, wantCreate: []string{"p2"}, wantLicReqs: 1},
		{name: "gold: monitoring output blocked too", license: "gold",
			policies:    []schema.AgentPolicy{{ID: "p1", Name: "P1", Namespace: "default", MonitoringOutputID: ptr("es2")}},
			wantBlocked: []string{"p1"}, wantLicReqs: 1},
		{name: "platinum: allowed", license: "platinum",
			policies:   []schema.AgentPolicy{{ID: "p1", Name: "P1", Namespace: "default", DataOutputID: ptr("es2")}},
			wantCreate: []string{"p1"}, wantLicReqs: 1},
		{name: "basic without per-policy outputs: licence not read", license: "basic",
			policies:   []schema.AgentPolicy{{ID: "p2", Name: "P2", Namespace: "default"}},
			wantCreate: []string{"p2"}, wantLicReqs: 0},
		{name: "basic: Fleet Server policy exempt", license: "basic",
			seed:       &fleetsim.ClusterSeed{AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "fleet-server-policy", Name: "Fleet Server", Namespace: "default", HasFleetServer: true}}},
			policies:   []schema.AgentPolicy{{ID: "fleet-server-policy", Adopt: true, DataOutputID: ptr("es2")}},
			wantUpdate: []string{"fleet-server-policy"}, wantLicReqs: 1},
		{name: "basic: Synthetics policy exempt", license: "basic",
			seed: func() *fleetsim.ClusterSeed {
				s := &fleetsim.ClusterSeed{AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "synth", Name: "Synthetics", Namespace: "default"}}}
				pp := fleetsim.SeedPackagePolicy{ID: "synth-1", Name: "synthetics-1", PolicyIDs: []string{"synth"}}
				pp.Package.Name = "synthetics"
				s.PackagePolicies = []fleetsim.SeedPackagePolicy{pp}
				return s
			}(),
			policies:   []schema.AgentPolicy{{ID: "synth", Name: "Synthetics", Namespace: "default", DataOutputID: ptr("es2")}},
			wantUpdate: []string{"synth"}, wantLicReqs: 1},
		{name: "basic: existing policy changed to a per-policy output blocked", license: "basic",
			seed:        &fleetsim.ClusterSeed{AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "p3", Name: "P3", Namespace: "default"}}},
			policies:    []schema.AgentPolicy{{ID: "p3", Name: "P3", Namespace: "default", DataOutputID: ptr("es2")}},
			wantBlocked: []string{"p3"}, wantLicReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: tt.license})
			if tt.seed != nil {
				if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": tt.seed}}); err != nil {
					t.Fatal(err)
				}
			}
			h.withLicense()
			doc := &schema.Document{Outputs: []schema.Output{es2}, AgentPolicies: tt.policies}
			h.sim.ClearRequests()
			p := h.plan(doc)
			if got := h.licenseRequests(); got != tt.wantLicReqs {
				t.Errorf("GET /_license requests per plan = %d, want %d", got, tt.wantLicReqs)
			}
			got := map[plan.Action][]string{}
			for _, ch := range p.Changes {
				if ch.Kind != plan.KindAgentPolicy {
					continue
				}
				got[ch.Action] = append(got[ch.Action], ch.ID)
				if ch.Action == plan.Blocked {
					if !BlockedByPolicyOutputLicense(ch) || !strings.Contains(ch.Reason, `main licence is "`+tt.license+`"`) {
						t.Errorf("blocked %s: reason %q lacks Kibana's message or the licence", ch.ID, ch.Reason)
					}
				}
			}
			for action, want := range map[plan.Action][]string{plan.Blocked: tt.wantBlocked, plan.Create: tt.wantCreate, plan.Update: tt.wantUpdate} {
				if strings.Join(got[action], ",") != strings.Join(want, ",") {
					t.Errorf("%s policies = %v, want %v\n%s", action, got[action], want, renderText(p))
				}
			}

			h.sim.ClearRequests()
			_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			if len(tt.wantBlocked) > 0 {
				if !errors.Is(err, ErrNotConverged) || !errors.Is(err, ErrBlocked) {
					t.Errorf("apply err = %v, want blocked", err)
				}
			} else if err != nil {
				t.Fatalf("apply: %v", err)
			}
			for _, r := range h.sim.Requests() {
				if r.Status == 400 {
					t.Errorf("Kibana refused %s %s: the plan should have blocked it", r.Method, r.Path)
				}
			}
			for _, id := range tt.wantBlocked {
				if tt.seed == nil {
					if _, err := h.kb.GetAgentPolicy(context.Background(), id); !kibana.IsNotFound(err) {
						t.Errorf("blocked policy %s was created (err %v)", id, err)
					}
				}
			}
			if len(tt.wantBlocked) == 0 {
				if p := h.plan(doc); !p.Empty() {
					t.Errorf("plan after apply not empty:\n%s", renderText(p))
				}
			}
		})
	}
}

// Trap 18: uninstalling a package deletes its package policies when no
// agent uses them and fails with a 400 when one does. A prune of an owned
// package says so in the plan: a note naming the policies Kibana deletes,
// or a blocked change with the agent count.
func TestSim_Trap18_PrunedPackageWithPackagePolicies(t *testing.T) {
	tests := []struct {
		name       string
		agents     []int // per package policy of nginx
		wantAction plan.Action
		wantReason string
		wantLeft   string // nginx installed version after apply
	}{
		{name: "no package policies", wantAction: plan.Delete, wantReason: "owned by fleetform and no longer declared"},
		{name: "package policies without agents are deleted with it", agents: []int{0, 0}, wantAction: plan.Delete,
			wantReason: "Kibana also deletes its package policies, which no agent uses: nginx-1, nginx-2"},
		{name: "package policies with agents block it", agents: []int{3, 0, 2}, wantAction: plan.Blocked,
			wantReason: "2 package policies of nginx are in use by 5 agents: nginx-1 (3 agents), nginx-3 (2 agents); Kibana refuses the uninstall (Unable to remove package with existing package policy(s) in use by agent(s))",
			wantLeft:   "1.25.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
			doc := &schema.Document{Packages: []schema.Package{{Name: "nginx", Version: "1.25.1"}}}
			h.apply(doc)
			seed := &fleetsim.ClusterSeed{}
			for i, n := range tt.agents {
				id := "ap-" + string(rune('1'+i))
				seed.AgentPolicies = append(seed.AgentPolicies, fleetsim.SeedAgentPolicy{ID: id, Name: id, Namespace: "default", Agents: n})
				pp := fleetsim.SeedPackagePolicy{ID: "nginx-" + string(rune('1'+i)), Name: "nginx-" + string(rune('1'+i)), PolicyIDs: []string{id}, Agents: n}
				pp.Package.Name = "nginx"
				seed.PackagePolicies = append(seed.PackagePolicies, pp)
			}
			if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
				t.Fatal(err)
			}
			empty := &schema.Document{}
			if p := h.plan(empty); len(p.Changes) != 0 || len(p.Warnings) != 1 {
				t.Fatalf("without --prune the plan only warns:\n%s", renderText(p))
			}
			h.connect(func(c *Config) { c.Prune = true })
			p := h.plan(empty)
			ch, ok := findPlanChange(p, plan.KindPackage, "nginx")
			if !ok || ch.Action != tt.wantAction || !strings.Contains(ch.Reason, tt.wantReason) {
				t.Fatalf("nginx change = %s %q, want %s containing %q\n%s", ch.Action, ch.Reason, tt.wantAction, tt.wantReason, renderText(p))
			}
			h.sim.ClearRequests()
			_, err := h.r.Apply(context.Background(), empty, nil, ApplyOptions{})
			if (tt.wantAction == plan.Blocked) != errors.Is(err, ErrBlocked) {
				t.Errorf("apply err = %v", err)
			}
			for _, w := range h.writes() {
				if tt.wantAction == plan.Blocked && strings.Contains(w, "/epm/packages/") {
					t.Errorf("blocked uninstall was sent: %s", w)
				}
			}
			pkgs, err := h.kb.ListPackages(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			left := ""
			for _, pk := range pkgs {
				if pk.Name == "nginx" {
					left = pk.InstalledVersion
				}
			}
			if left != tt.wantLeft {
				t.Errorf("nginx installed version after apply = %q, want %q", left, tt.wantLeft)
			}
			pps, err := h.kb.ListPackagePolicies(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: len(tt.agents), false: 0}[tt.wantAction == plan.Blocked]; len(pps) != want {
				t.Errorf("%d package policies left, want %d", len(pps), want)
			}
		})
	}
}

func findPlanChange(p *plan.Plan, kind, id string) (plan.Change, bool) {
	for _, ch := range p.Changes {
		if ch.Kind == kind && ch.ID == id {
			return ch, true
		}
	}
	return plan.Change{}, false
}
