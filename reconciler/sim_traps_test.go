package reconciler

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// remoteDoc is one remote_elasticsearch output with a stored secret token
// and a plain Kibana API key, and a policy routed to it.
func remoteDoc() *schema.Document {
	return &schema.Document{
		Outputs: []schema.Output{{ID: "remote-west", Name: "remote-west", Type: "remote_elasticsearch", Hosts: []string{"https://ES.West.example"},
			Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN")}, SyncIntegrations: ptr(true),
			KibanaURL: "https://kb.west.example:5601", KibanaAPIKey: env("WEST_KIBANA_KEY")}},
		AgentPolicies: []schema.AgentPolicy{{ID: "west-linux", Name: "West Linux", Namespace: "west", DataOutputID: ptr("remote-west")}},
	}
}

func newRemoteHarness(t *testing.T, clusters ...fleetsim.ClusterConfig) *simHarness {
	t.Helper()
	t.Setenv("WEST_TOKEN", tokenValue)
	t.Setenv("WEST_TOKEN_2", token2Value)
	t.Setenv("WEST_KIBANA_KEY", apiKeyValue)
	return newSimHarness(t, clusters...)
}

func TestSim_RotatedSecretReferenceChangesExactlyOneOutputAndItsSecretID(t *testing.T) {
	h := newRemoteHarness(t)
	doc := remoteDoc()
	doc.Outputs = append(doc.Outputs, schema.Output{ID: "remote-east", Name: "remote-east", Type: "remote_elasticsearch",
		Hosts: []string{"https://es.east.example"}, Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN")}})
	h.apply(doc)
	westID := h.output("remote-west").SecretID("service_token")
	eastID := h.output("remote-east").SecretID("service_token")
	if westID == "" || eastID == "" {
		t.Fatalf("secret ids %q %q: tokens not stored as Fleet secrets", westID, eastID)
	}
	doc.Outputs[0].Secrets.ServiceToken = env("WEST_TOKEN_2")
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].ID != "remote-west" {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.sim.ClearRequests()
	h.apply(doc)
	if w := h.writes(); !cmp.Equal(w, []string{"PUT /api/fleet/outputs/remote-west"}) {
		t.Errorf("writes = %v", w)
	}
	newWest := h.output("remote-west").SecretID("service_token")
	if newWest == westID || newWest == "" {
		t.Errorf("remote-west secret id %q → %q", westID, newWest)
	}
	if got := h.output("remote-east").SecretID("service_token"); got != eastID {
		t.Errorf("remote-east secret id moved %q → %q", eastID, got)
	}
	if v, ok := h.main.ES().GetDoc(".fleet-secrets", newWest); !ok || !strings.Contains(string(v.Source), token2Value) {
		t.Error("new token not stored under the new secret id")
	}
	if _, ok := h.main.ES().GetDoc(".fleet-secrets", westID); ok {
		t.Error("old secret left behind")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after rotation:\n%s", renderText(p))
	}
}

// Trap 1: hosts come back with explicit ports.
func TestSim_Trap01_HostsWithoutPortDoNotLoop(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://ES.example", "http://es2.example/"}}}}
	h.apply(doc)
	if got := h.output("es")["hosts"]; !cmp.Equal(got, []any{"https://es.example:443", "http://es2.example:80"}) {
		t.Errorf("stored hosts = %v", got)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

// Trap 2: agent policy PUT keeps inactivity_timeout and sends no read-only field.
func TestSim_Trap02_PolicyPutKeepsInactivityTimeout(t *testing.T) {
	h := newRemoteHarness(t)
	ctx := context.Background()
	if _, err := h.kb.CreateAgentPolicy(ctx, map[string]any{"id": "p1", "name": "P1", "namespace": "default", "inactivity_timeout": 600}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{
		Outputs:       []schema.Output{{ID: "es", Name: "es", Type: "elasticsearch", Hosts: []string{"https://es.example"}}},
		AgentPolicies: []schema.AgentPolicy{{ID: "p1", Adopt: true, DataOutputID: ptr("es")}},
	}
	before := h.revisions()["p1"]
	h.apply(doc)
	p, err := h.kb.GetAgentPolicy(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if p.InactivityTimeout == nil || *p.InactivityTimeout != 600 || !ptrIs(p.DataOutputID, "es") || p.Name != "P1" {
		t.Errorf("policy after adopt: timeout=%v data=%v name=%q", p.InactivityTimeout, p.DataOutputID, p.Name)
	}
	if p.Revision != before+1 {
		t.Errorf("revision %d → %d, want one bump", before, p.Revision)
	}
	h.sim.ClearRequests()
	h.apply(doc)
	if w := h.writes(); len(w) != 0 {
		t.Errorf("second apply wrote %v", w)
	}
}

// Traps 3 and 4: an update keeps the stored secret ({id}) and the plain
// kibana_api_key / service_token that repeating the type would wipe.
func TestSim_Trap03_04_UpdateKeepsSecretsAndPlainCredentials(t *testing.T) {
	h := newRemoteHarness(t)
	doc := remoteDoc()
	plainDoc := &schema.Document{Outputs: []schema.Output{{ID: "remote-plain", Name: "remote-plain", Type: "remote_elasticsearch",
		Hosts: []string{"https://es.plain.example"}, ServiceToken: env("WEST_TOKEN"), KibanaURL: "https://kb.plain.example", KibanaAPIKey: env("WEST_KIBANA_KEY")}}}
	doc.Outputs = append(doc.Outputs, plainDoc.Outputs...)
	h.apply(doc)
	secretID := h.output("remote-west").SecretID("service_token")
	doc.Outputs[0].Hosts = []string{"https://es-new.west.example"}
	doc.Outputs[1].Hosts = []string{"https://es-new.plain.example"}
	h.sim.ClearRequests()
	h.apply(doc)
	if w := h.writes(); !cmp.Equal(w, []string{"PUT /api/fleet/outputs/remote-plain", "PUT /api/fleet/outputs/remote-west"}) && !cmp.Equal(w, []string{"PUT /api/fleet/outputs/remote-west", "PUT /api/fleet/outputs/remote-plain"}) {
		t.Errorf("writes = %v", w)
	}
	west := h.output("remote-west")
	if got := west.SecretID("service_token"); got != secretID {
		t.Errorf("secret id %q → %q: the PUT did not send it back", secretID, got)
	}
	if _, ok := h.main.ES().GetDoc(".fleet-secrets", secretID); !ok {
		t.Error("stored token deleted by the PUT (trap 3)")
	}
	if west["kibana_api_key"] != apiKeyValue {
		t.Error("kibana_api_key wiped by the PUT (trap 4)")
	}
	plain := h.output("remote-plain")
	if plain["service_token"] != tokenValue || plain["kibana_api_key"] != apiKeyValue {
		t.Error("plain service_token or kibana_api_key wiped by the PUT (trap 4)")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

// Trap 6: with Kibana's secret storage off, secrets.* values come back as
// plain fields; that is not drift.
func TestSim_Trap06_SecretStorageOff(t *testing.T) {
	h := newRemoteHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise", SecretStorage: "off"})
	doc := remoteDoc()
	h.apply(doc)
	if h.output("remote-west")["service_token"] != tokenValue {
		t.Fatal("expected the simulator to store the token in plain text")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	doc.Outputs[0].Hosts = []string{"https://other.example"}
	h.apply(doc)
	if h.output("remote-west")["service_token"] != tokenValue {
		t.Error("token lost on update")
	}
	doc.Outputs[0].Secrets.ServiceToken = env("WEST_TOKEN_2")
	h.apply(doc)
	if h.output("remote-west")["service_token"] != token2Value {
		t.Error("token not rotated")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

// Trap 7: a POST that failed without an answer is followed by a check, not
// a blind second POST; a reset costs no duplicate and no orphaned secret.
func TestSim_Trap07_CreateAfterConnectionReset(t *testing.T) {
	h := newRemoteHarness(t)
	if err := h.sim.AddFault(simhttp.Fault{Method: "POST", PathPattern: "/api/fleet/outputs", Listener: "kibana", Reset: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	doc := remoteDoc()
	h.apply(doc)
	var seq []string
	for _, r := range h.sim.Requests() {
		if strings.HasPrefix(r.Path, "/api/fleet/outputs/remote-west") || r.Method == "POST" && r.Path == "/api/fleet/outputs" {
			seq = append(seq, r.Method+" "+r.Path+" "+r.Fault)
		}
	}
	want := []string{"GET /api/fleet/outputs/remote-west ", "POST /api/fleet/outputs reset", "GET /api/fleet/outputs/remote-west ", "POST /api/fleet/outputs "}
	if d := cmp.Diff(want, seq); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	h.assertNoOrphans()
}

// Trap 10: a preconfigured output is edited within allow_edit (hosts sent
// normalized); Trap 33: its default flag is not, so no other output can
// become the default — the plan says so instead of failing.
func TestSim_Trap10_33_Preconfigured(t *testing.T) {
	h := newRemoteHarness(t)
	seed := &fleetsim.ClusterSeed{Outputs: []map[string]any{{
		"id": "kb-yml", "name": "from kibana.yml", "type": "elasticsearch", "hosts": []any{"https://pre.example:9200"},
		"is_preconfigured": true, "allow_edit": []any{"hosts"}, "is_default": true, "is_default_monitoring": true,
	}}}
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{Outputs: []schema.Output{{ID: "kb-yml", Name: "from kibana.yml", Type: "elasticsearch", Hosts: []string{"https://pre2.example"}}}}
	h.apply(doc)
	if got := h.output("kb-yml")["hosts"]; !cmp.Equal(got, []any{"https://pre2.example:443"}) {
		t.Errorf("hosts = %v", got)
	}
	doc.Outputs[0].Name = "renamed"
	doc.Outputs = append(doc.Outputs, schema.Output{ID: "new-default", Name: "new", Type: "elasticsearch", Hosts: []string{"https://new.example"}, IsDefault: ptr(true)})
	p := h.plan(doc)
	if s := p.Summary(); s.Blocked != 2 || len(p.Changes) != 2 {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	for _, c := range p.Changes {
		if !strings.Contains(c.Reason, "kibana config file") {
			t.Errorf("%s: reason %q", c.ID, c.Reason)
		}
	}
	h.sim.ClearRequests()
	if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{}); err == nil {
		t.Error("apply of a blocked plan succeeded")
	}
	if w := h.writes(); len(w) != 0 {
		t.Errorf("blocked changes were sent: %v", w)
	}
}

// Trap 11: the default moves by setting it on the new output.
func TestSim_Trap11_DefaultMovesToNewOutput(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Outputs: []schema.Output{
		{ID: "fleet-default-output", Name: "default", Type: "elasticsearch", IsDefault: ptr(false), IsDefaultMonitoring: ptr(false)},
		{ID: "main-es", Name: "main-es", Type: "elasticsearch", Hosts: []string{"https://main.example"}, IsDefault: ptr(true), IsDefaultMonitoring: ptr(true)},
	}}
	h.apply(doc)
	if !h.output("main-es").IsDefault() || h.output("fleet-default-output").IsDefault() {
		t.Error("default did not move")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	// Unsetting the last default is refused in the plan.
	doc.Outputs[1].IsDefault = ptr(false)
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

// Traps 13 and 15: prune deletes an owned output after the policy using it
// moved away; a policy that needs a higher licence fails alone.
func TestSim_Trap13_15_PruneOrderAndLicenceFailure(t *testing.T) {
	h := newRemoteHarness(t)
	doc := remoteDoc()
	h.apply(doc)
	doc.Outputs[0] = schema.Output{ID: "es2", Name: "es2", Type: "elasticsearch", Hosts: []string{"https://es2.example"}}
	doc.AgentPolicies[0].DataOutputID = ptr("es2")
	res := h.apply(doc, ApplyOptions{Prune: true})
	var order []string
	for _, o := range res.Outcomes {
		order = append(order, string(o.Change.Action)+" "+o.Change.ID)
	}
	if d := cmp.Diff([]string{"create es2", "update west-linux", "delete remote-west"}, order); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	h.assertNoOrphans()

	basic := newRemoteHarness(t, fleetsim.ClusterConfig{Name: "main", License: "basic"})
	_, err := basic.r.Apply(context.Background(), remoteDoc(), nil, ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "licen") {
		t.Fatalf("err = %v", err)
	}
}

// Trap 17: content-only packages are seen through the full package list.
func TestSim_Trap17_ContentOnlyPackageIsSeen(t *testing.T) {
	h := newRemoteHarness(t)
	no := false
	seed := &fleetsim.ClusterSeed{Packages: []fleetsim.SeedPackage{{Name: "custom_dashboards", Version: "1.0.0", Source: "upload", HasIndexTemplates: &no}}}
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{Packages: []schema.Package{{Name: "custom_dashboards", Version: "1.0.0"}}}
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.NoOp {
		t.Fatalf("plan:\n%s", renderText(p))
	}
}

func TestSim_Packages(t *testing.T) {
	h := newRemoteHarness(t)
	doc := &schema.Document{Packages: []schema.Package{{Name: "system", Version: "latest"}, {Name: "nginx", Version: "1.25.1"}}}
	h.apply(doc)
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	pkgs, err := h.kb.ListPackages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	installed := map[string]string{}
	for _, p := range pkgs {
		if p.InstalledVersion != "" {
			installed[p.Name] = p.InstalledVersion
		}
	}
	if installed["nginx"] != "1.25.1" || installed["system"] == "" {
		t.Fatalf("installed = %v", installed)
	}
	h.apply(&schema.Document{}, ApplyOptions{Prune: true})
	pkgs, _ = h.kb.ListPackages(context.Background())
	for _, p := range pkgs {
		if p.InstalledVersion != "" && (p.Name == "nginx" || p.Name == "system") {
			t.Errorf("%s still installed after prune", p.Name)
		}
	}
}

// Injected faults (503, 429, connection resets on 10 % each of Kibana
// requests) still converge, with no duplicate object and no orphaned secret.
// The seeded runs take the repository of every main-cluster kind
// (testdata/lost-answer, TestLostAnswer) through its create, update and
// prune rounds with lost answers besides; FLEETFORM_FAULT_SEEDS=N runs
// seeds 1…N instead of 1…3.
func TestSim_FaultsStillConverge(t *testing.T) {
	for run := range 5 {
		t.Run(fmt.Sprint("run", run), testFaultsConverge)
	}
	seeds := []uint64{1, 2, 3}
	if n, _ := strconv.Atoi(os.Getenv("FLEETFORM_FAULT_SEEDS")); n > 0 {
		seeds = nil
		for i := range n {
			seeds = append(seeds, uint64(i+1))
		}
	}
	for _, seed := range seeds {
		for _, round := range lostRounds() {
			t.Run(fmt.Sprintf("every-kind/seed%d/%s", seed, round.name), func(t *testing.T) {
				t.Parallel()
				testFaultsConvergeEveryKind(t, seed, round)
			})
		}
	}
}

// testFaultsConvergeEveryKind applies a round of TestLostAnswer's
// repository while 503, 429, resets and lost answers hit 10 % each of the
// requests to Kibana and to the state index (seeded), until it converges;
// then the plan is empty, nothing exists twice, no Fleet secret is
// orphaned and the state index records exactly the declared objects.
func testFaultsConvergeEveryKind(t *testing.T, seed uint64, round lostRound) {
	h := newLostHarness(t, round)
	doc := round.prepare(h)
	h.connect(func(c *Config) { c.Prune = round.prune }) // writes in parallel, as by default
	for i, f := range []simhttp.Fault{
		{Status: 503, Rate: 0.1},
		{Status: 429, Rate: 0.1},
		{Reset: true, Rate: 0.1},
		{Lose: true, Rate: 0.1},
	} {
		f.Seed = seed*10 + uint64(i) + 1
		if err := h.sim.AddFault(f); err != nil {
			t.Fatal(err)
		}
	}
	h.sim.ClearRequests()
	converged := false
	for try := 1; try <= 8 && !converged; try++ {
		if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{Prune: round.prune}); err != nil {
			t.Logf("apply %d: %v", try, err)
			continue
		}
		converged = true
	}
	faults := map[string]int{}
	for _, r := range h.sim.Requests() {
		if r.Fault != "" {
			faults[r.Fault]++
		}
	}
	h.sim.ClearFaults()
	t.Logf("faults injected: %v", faults)
	if len(faults) == 0 {
		t.Fatal("no fault was injected")
	}
	if !converged {
		t.Fatal("did not converge in 8 applies")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after convergence:\n%s", renderText(p))
	}
	h.assertUnique()
	h.assertNoOrphans()
	h.assertSecretValues(doc, round.storageOff)
	h.assertOwnsExactly(doc)
}

func testFaultsConverge(t *testing.T) {
	h := newRemoteHarness(t)
	h.useStateIndex()
	t.Setenv("LS_KEY", sslKeyValue)
	doc := remoteDoc()
	doc.Outputs = append(doc.Outputs,
		schema.Output{ID: "ls", Name: "ls", Type: "logstash", Hosts: []string{"ls:5044"}, Secrets: &schema.OutputSecrets{SSL: &schema.SecretsSSL{Key: env("LS_KEY")}}},
		schema.Output{ID: "remote-2", Name: "remote-2", Type: "remote_elasticsearch", Hosts: []string{"https://r2.example"}, Secrets: &schema.OutputSecrets{ServiceToken: env("WEST_TOKEN_2")}},
	)
	for i := range 6 {
		doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: "p" + string(rune('a'+i)), Name: "P" + string(rune('a'+i)), Namespace: "default", DataOutputID: ptr([]string{"ls", "remote-2", "remote-west"}[i%3])})
	}
	doc.Packages = []schema.Package{{Name: "system", Version: "latest"}, {Name: "nginx", Version: "latest"}}
	for _, f := range []simhttp.Fault{ // on Kibana and on the Elasticsearch that holds the state index
		{Status: 503, Rate: 0.1},
		{Status: 429, Rate: 0.1},
		{Reset: true, Rate: 0.1},
	} {
		if err := h.sim.AddFault(f); err != nil {
			t.Fatal(err)
		}
	}
	converged := false
	for round := 1; round <= 6 && !converged; round++ {
		if _, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{}); err != nil {
			t.Logf("round %d: %v", round, err)
			continue
		}
		converged = true
	}
	faults := 0
	for _, r := range h.sim.Requests() {
		if r.Fault != "" {
			faults++
		}
	}
	if faults == 0 {
		t.Fatal("no fault was injected")
	}
	h.sim.ClearFaults()
	if !converged {
		t.Fatal("did not converge in 6 applies")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after convergence:\n%s", renderText(p))
	}
	t.Logf("%d faults injected over %d requests", faults, len(h.sim.Requests()))
	h.assertNoOrphans()
	recs, err := h.inv.Load(context.Background())
	if err != nil || len(recs) != len(doc.Outputs)+len(doc.AgentPolicies)+len(doc.Packages) {
		t.Errorf("state index holds %d records (err %v), want one per declared object", len(recs), err)
	}
}

// assertNoOrphans checks that outputs are unique and that every Fleet
// secret is referenced by exactly one object: an output, an integration
// policy's variable, a Fleet Server host or a download source
// (fleetSecretRefs).
func (h *simHarness) assertNoOrphans() {
	h.t.Helper()
	outs, err := h.kb.ListOutputs(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range outs {
		if seen[o.ID()] {
			h.t.Errorf("duplicate output %s", o.ID())
		}
		seen[o.ID()] = true
	}
	referenced := h.fleetSecretRefs()
	stored := h.fleetSecretIDs()
	sort.Strings(referenced)
	sort.Strings(stored)
	if d := cmp.Diff(slices.Compact(slices.Clone(referenced)), stored); d != "" {
		h.t.Errorf("referenced vs stored Fleet secrets (-referenced +stored):\n%s", d)
	}
	if len(slices.Compact(slices.Clone(referenced))) != len(referenced) {
		h.t.Errorf("a secret is referenced twice: %v", referenced)
	}
}

// Trap 12: making a remote output the default pins Fleet Server policies to
// the previous default; fleetform does not try to move them back onto a
// remote output, it says why and what to declare.
func TestSim_Trap12_FleetServerPolicyPinnedByRemoteDefault(t *testing.T) {
	h := newRemoteHarness(t)
	seed := &fleetsim.ClusterSeed{AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "fleet-server-policy", Name: "Fleet Server Policy", Namespace: "default", HasFleetServer: true}}}
	if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": seed}}); err != nil {
		t.Fatal(err)
	}
	doc := remoteDoc()
	doc.AgentPolicies = []schema.AgentPolicy{{ID: "fleet-server-policy", Adopt: true}}
	doc.Outputs[0].IsDefault = ptr(true)
	h.apply(doc)
	pol, err := h.kb.GetAgentPolicy(context.Background(), "fleet-server-policy")
	if err != nil {
		t.Fatal(err)
	}
	if !ptrIs(pol.DataOutputID, "fleet-default-output") {
		t.Fatalf("simulator did not pin the Fleet Server policy: data_output_id=%v", pol.DataOutputID)
	}
	p := h.plan(doc)
	if len(p.Changes) != 1 || p.Changes[0].Action != plan.Blocked || !strings.Contains(p.Changes[0].Reason, "only accept elasticsearch outputs") {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	doc.AgentPolicies[0].DataOutputID = ptr("fleet-default-output")
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan with the pin declared:\n%s", renderText(p))
	}
}
