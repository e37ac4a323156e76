package reconciler

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
	"github.com/fleetform/fleetform/state"
)

// simHarness runs the reconciler against an in-process fleetsim.
type simHarness struct {
	t       *testing.T
	sim     *fleetsim.Sim
	main    *fleetsim.Cluster
	kb      *kibana.Client
	inv     Inventory
	r       *Reconciler
	logs    *bytes.Buffer
	secrets map[string]string // describeRef → value, for file: references that do not exist here
}

func newSimHarness(t *testing.T, clusters ...fleetsim.ClusterConfig) *simHarness {
	t.Helper()
	sim := fleetsim.StartTest(t, fleetsim.Options{}, clusters...)
	main := sim.Cluster("main")
	kb := mustKibana(t, main)
	h := &simHarness{t: t, sim: sim, main: main, kb: kb, inv: newFakeInventory(), logs: &bytes.Buffer{}, secrets: map[string]string{}}
	h.connect()
	return h
}

func (h *simHarness) connect(mod ...func(*Config)) {
	cfg := Config{Fleet: h.kb, Inventory: h.inv, Hasher: &fastHasher{},
		Resolve: func(ctx context.Context, ref schema.SecretRef) (secret.Value, error) {
			if v, ok := h.secrets[describeRef(ref)]; ok {
				return secret.New(v), nil
			}
			return kibana.ResolveSecret(ctx, ref)
		}}
	for _, m := range mod {
		m(&cfg)
	}
	r, err := New(cfg, slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		h.t.Fatal(err)
	}
	h.r = r
}

func (h *simHarness) plan(doc *schema.Document) *plan.Plan { return mustPlan(h.t, h.r, doc, "rev") }

func (h *simHarness) apply(doc *schema.Document, opts ...ApplyOptions) Result {
	return mustApply(h.t, h.r, doc, opts...)
}

// writes lists the non-GET requests fleetsim saw (Kibana and Elasticsearch).
func (h *simHarness) writes() []string {
	var out []string
	for _, r := range h.sim.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.Path, "/_sim") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func (h *simHarness) output(id string) kibana.Output {
	h.t.Helper()
	o, err := h.kb.GetOutput(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get output %s: %v", id, err)
	}
	return o
}

func (h *simHarness) revisions() map[string]int {
	h.t.Helper()
	pols, err := h.kb.ListAgentPolicies(context.Background(), kibana.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range pols {
		out[p.ID] = p.Revision
	}
	return out
}

// fleetSecretIDs lists the secret documents in the main cluster's .fleet-secrets.
func (h *simHarness) fleetSecretIDs() []string {
	docs, err := h.main.ES().SearchDocs(".fleet-secrets", true)
	if err != nil {
		return nil
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	return ids
}

// loadExample loads examples/NAME, pointed at the simulator.
func loadExample(t *testing.T, dir string) *schema.Document {
	t.Helper()
	doc, err := schema.LoadDir(context.Background(), dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return doc
}

func needsGenerate(doc *schema.Document) bool {
	for _, o := range doc.Outputs {
		for _, sp := range secretSpecs(o) {
			if sp.Ref.Generate {
				return true
			}
		}
	}
	return false
}

// TestSim_ExamplesApplyThenPlanEmpty applies every example repository to a
// fresh simulator, then checks that a plan is empty and that a second apply
// sends no write at all and bumps no policy revision.
func TestSim_ExamplesApplyThenPlanEmpty(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || filepath.Base(dir) == "deploy" || filepath.Base(dir) == "ci" { // deploy/ holds container and Kubernetes files, ci/ CI pipelines
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			doc := loadExample(t, dir)
			if needsGenerate(doc) {
				t.Log("declares generate: true secrets, which only the two-cluster engine mints (a bare reconciler blocks them); applying it with env: references in their place")
				replaceGenerate(doc)
			}
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
			for _, k := range kinds { // every kind's secret references
				for _, ds := range k.secrets(doc) {
					h.secrets[describeRef(ds.spec.Ref)] = "value-of-" + describeRef(ds.spec.Ref) + "-0123456789"
				}
			}
			// Policies the example adopts exist already, as they would in a real Fleet.
			seed := &fleetsim.ClusterSeed{}
			for _, p := range doc.AgentPolicies {
				if p.Adopt {
					seed.AgentPolicies = append(seed.AgentPolicies, fleetsim.SeedAgentPolicy{ID: p.ID, Name: "adopted " + p.ID, Namespace: "default", HasFleetServer: p.ID == "fleet-server-policy"})
				}
			}
			if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
				t.Fatal(err)
			}
			res := h.apply(doc)
			if res.Plan.Empty() {
				t.Fatal("first apply had nothing to do")
			}
			if p := h.plan(doc); !p.Empty() {
				t.Fatalf("plan after apply not empty:\n%s", renderText(p))
			}
			revs := h.revisions()
			h.sim.ClearRequests()
			res = h.apply(doc)
			if len(res.Outcomes) != 0 {
				t.Errorf("second apply had changes:\n%s", renderText(res.Plan))
			}
			if w := h.writes(); len(w) != 0 {
				t.Errorf("second apply sent writes: %v", w)
			}
			if got := h.revisions(); fmt.Sprint(got) != fmt.Sprint(revs) {
				t.Errorf("policy revisions moved: %v → %v", revs, got)
			}
		})
		ran++
	}
	if ran < 3 {
		t.Fatalf("only %d examples found", ran)
	}
}

// replaceGenerate swaps every generate: true secret for an env: reference.
func replaceGenerate(doc *schema.Document) {
	swap := func(id string, r **schema.SecretRef) {
		if *r != nil && (*r).Generate {
			*r = &schema.SecretRef{Env: "GENERATED_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(id))}
		}
	}
	for i := range doc.Outputs {
		o := &doc.Outputs[i]
		swap(o.ID+"_kibana_api_key", &o.KibanaAPIKey)
		swap(o.ID+"_service_token", &o.ServiceToken)
		if o.Secrets != nil {
			swap(o.ID+"_secrets_service_token", &o.Secrets.ServiceToken)
		}
	}
}

func mustKibana(tb testing.TB, c *fleetsim.Cluster) *kibana.Client {
	tb.Helper()
	kb, err := kibana.New(c.KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")},
		kibana.WithRetry(8, time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	return kb
}

// useStateIndex keeps ownership in the simulator's Elasticsearch (the
// fleetform-state index) instead of memory.
func (h *simHarness) useStateIndex() {
	h.t.Helper()
	es, err := elastic.New(h.main.ESURL(), elastic.Auth{Username: "elastic", Password: secret.New("changeme")}, elastic.WithRetry(8, time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	h.inv = StateInventory(state.NewStore(es, "", ""))
	h.connect()
}
