package reconciler

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Integration policies against fleetsim, which follows Kibana's
// FLEET/server/routes/package_policy/handlers.ts,
// FLEET/common/services/simplified_package_policy_helper.ts and
// FLEET/server/services/package_policies/utils.ts (elastic/kibana).

func ipDoc() *schema.Document {
	f := false
	return &schema.Document{
		Outputs: []schema.Output{{ID: "es-logs", Name: "es logs", Type: "elasticsearch", Hosts: []string{"https://logs.example:9200"}}},
		AgentPolicies: []schema.AgentPolicy{
			{ID: "web", Name: "Web", Namespace: "default"},
			{ID: "edge", Name: "Edge", Namespace: "default"},
		},
		PackagePolicies: []schema.PackagePolicy{{
			ID: "nginx-web", Name: "nginx web", Namespace: "default",
			Package:   &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"},
			PolicyIDs: []string{"web", "edge"},
			OutputID:  schema.Some("es-logs"),
			Inputs: map[string]schema.PackagePolicyInput{
				"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
					"nginx.access": {Vars: schema.Vars{"paths": []any{"/srv/log/access.log"}}},
					"nginx.error":  {Enabled: &f},
				}},
				"nginx-httpjson": {Enabled: &f, Vars: schema.Vars{"password": map[string]any{"env": "SPLUNK_PASSWORD"}}},
			},
		}},
	}
}

func (h *simHarness) integrationPolicy(id string) kibana.IntegrationPolicy {
	h.t.Helper()
	p, err := h.kb.GetIntegrationPolicy(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get integration policy %s: %v", id, err)
	}
	return p
}

func changeOf(p *plan.Plan, kind, id string) *plan.Change {
	for i := range p.Changes {
		if p.Changes[i].Kind == kind && p.Changes[i].ID == id {
			return &p.Changes[i]
		}
	}
	return nil
}

func TestSim_IntegrationPolicy_CreateUpdateSecretPrune(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise", SecretStorage: "on"})
	h.secrets["env:SPLUNK_PASSWORD"] = "splunk-password-1"
	doc := ipDoc()

	// Create: after the agent policies and the output it names.
	p := h.plan(doc)
	ch := changeOf(p, KindIntegrationPolicy, "nginx-web")
	if ch == nil || ch.Action != plan.Create {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	for _, d := range []string{"main/agent_policy/edge", "main/agent_policy/web", "main/output/es-logs"} {
		if !slices.ContainsFunc(ch.DependsOn, func(k string) bool { return strings.HasSuffix(k, strings.TrimPrefix(d, "main/")) || k == d }) {
			t.Errorf("create depends on %v, want %s", ch.DependsOn, d)
		}
	}
	h.apply(doc)
	got := h.integrationPolicy("nginx-web")
	if got.OutputID == nil || *got.OutputID != "es-logs" || !reflect.DeepEqual(slices.Sorted(slices.Values(got.PolicyIDs)), []string{"edge", "web"}) {
		t.Errorf("created: output_id %v, policy_ids %v", got.OutputID, got.PolicyIDs)
	}
	pw, _ := got.Inputs["nginx-httpjson"].Vars["password"].(map[string]any)
	secretID, _ := pw["id"].(string)
	if pw["isSecretRef"] != true || secretID == "" {
		t.Fatalf("password stored as %#v, want a Fleet secret reference", got.Inputs["nginx-httpjson"].Vars["password"])
	}

	// Converged: the plan is empty, a second apply writes nothing and bumps no revision.
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after apply:\n%s", renderText(p))
	}
	revs := h.revisions()
	h.sim.ClearRequests()
	if res := h.apply(doc); len(res.Outcomes) != 0 {
		t.Errorf("second apply had changes:\n%s", renderText(res.Plan))
	}
	if w := h.writes(); len(w) != 0 {
		t.Errorf("second apply sent writes: %v", w)
	}
	if got := h.revisions(); fmt.Sprint(got) != fmt.Sprint(revs) {
		t.Errorf("agent policy revisions moved: %v → %v", revs, got)
	}

	// Someone sets an undeclared var by hand; a declared change must keep it
	// (a simplified PUT rebuilds from the manifest defaults).
	hand := h.integrationPolicy("nginx-web")
	handBody := map[string]any{"name": hand.Name, "package": map[string]any{"name": "nginx", "version": "2.1.0"}, "inputs": canonicalMap(hand.Inputs)}
	handBody["inputs"].(map[string]any)["nginx-logfile"].(map[string]any)["streams"].(map[string]any)["nginx.access"].(map[string]any)["vars"].(map[string]any)["ignore_older"] = "24h"
	if _, err := h.kb.UpdateIntegrationPolicy(context.Background(), "nginx-web", handBody); err != nil {
		t.Fatal(err)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("an undeclared var changed by hand shows in the plan:\n%s", renderText(p))
	}
	doc.PackagePolicies[0].Inputs["nginx-logfile"].Streams["nginx.access"].Vars["paths"] = []any{"/srv/log/new.log"}
	p = h.plan(doc)
	if ch := changeOf(p, KindIntegrationPolicy, "nginx-web"); ch == nil || ch.Action != plan.Update || len(ch.Fields) != 1 ||
		ch.Fields[0].Path != "inputs.nginx-logfile.streams.nginx.access.vars.paths" {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.sim.ClearRequests()
	h.apply(doc)
	if w := h.writes(); !reflect.DeepEqual(w, []string{"PUT /api/fleet/package_policies/nginx-web"}) {
		t.Errorf("update writes = %v", w)
	}
	got = h.integrationPolicy("nginx-web")
	access := got.Inputs["nginx-logfile"].Streams["nginx.access"].Vars
	if !reflect.DeepEqual(access["paths"], []any{"/srv/log/new.log"}) || access["ignore_older"] != "24h" {
		t.Errorf("after update: paths %v, ignore_older %v (the hand-set 24h must stay)", access["paths"], access["ignore_older"])
	}
	if pw, _ := got.Inputs["nginx-httpjson"].Vars["password"].(map[string]any); pw["id"] != secretID {
		t.Errorf("the unchanged secret var was rewritten: %v, want reference %s", pw, secretID)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after update:\n%s", renderText(p))
	}

	// A new secret value under the same reference: Apply finds it by its hash.
	h.secrets["env:SPLUNK_PASSWORD"] = "splunk-password-2"
	p = h.plan(doc)
	ch = changeOf(p, KindIntegrationPolicy, "nginx-web")
	if ch == nil || ch.Action != plan.Update || !ch.Fields[0].Sensitive || !strings.Contains(ch.Fields[0].Note, "value changed") {
		t.Fatalf("rotated secret plan:\n%s", renderText(p))
	}
	if strings.Contains(renderText(p), "splunk-password") {
		t.Fatal("the plan shows a secret value")
	}
	h.apply(doc)
	if pw, _ := h.integrationPolicy("nginx-web").Inputs["nginx-httpjson"].Vars["password"].(map[string]any); pw["id"] == secretID {
		t.Error("the rotated secret kept its old Fleet secret")
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after rotation:\n%s", renderText(p))
	}

	// No longer declared: a warning without prune, a delete with it.
	doc.PackagePolicies = nil
	if p := h.plan(doc); len(p.Changes) != 0 || !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, `package_policy "nginx-web" is owned`) }) {
		t.Fatalf("plan without prune:\n%s\nwarnings %q", renderText(p), p.Warnings)
	}
	h.sim.ClearRequests()
	h.apply(doc, ApplyOptions{Prune: true})
	if w := h.writes(); !slices.Contains(w, "DELETE /api/fleet/package_policies/nginx-web") {
		t.Errorf("prune writes = %v", w)
	}
	if _, err := h.kb.GetIntegrationPolicy(context.Background(), "nginx-web"); !kibana.IsNotFound(err) {
		t.Errorf("after prune: %v", err)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after prune:\n%s", renderText(p))
	}
}

// adopt: fleetform manages the declared fields of an integration policy
// someone else created, never creates it and never deletes it.
func TestSim_IntegrationPolicy_Adopt(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}}}
	h.apply(doc)
	if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{
		"id": "by-hand", "name": "by hand", "namespace": "default", "policy_ids": []any{"web"},
		"package": map[string]any{"name": "nginx", "version": "2.1.0"},
	}); err != nil {
		t.Fatal(err)
	}
	f := false
	doc.PackagePolicies = []schema.PackagePolicy{{ID: "by-hand", Adopt: true, Inputs: map[string]schema.PackagePolicyInput{
		"nginx-nginx/metrics": {Enabled: &f}}}}
	p := h.plan(doc)
	ch := changeOf(p, KindIntegrationPolicy, "by-hand")
	if ch == nil || ch.Action != plan.Update || ch.Name != "by hand" {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	h.apply(doc)
	got := h.integrationPolicy("by-hand")
	if en := got.Inputs["nginx-nginx/metrics"].Enabled; en == nil || *en {
		t.Errorf("metrics enabled = %v, want false", en)
	}
	if got.Name != "by hand" {
		t.Errorf("name = %q: an undeclared name must be kept", got.Name)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after adopt:\n%s", renderText(p))
	}
	// Undeclared with prune: forgotten, never deleted.
	doc.PackagePolicies = nil
	h.sim.ClearRequests()
	h.apply(doc, ApplyOptions{Prune: true})
	if w := h.writes(); slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, "package_policies") }) {
		t.Errorf("an adopted integration policy was written on prune: %v", w)
	}
	h.integrationPolicy("by-hand")

	// adopt never creates.
	doc.PackagePolicies = []schema.PackagePolicy{{ID: "missing", Adopt: true}}
	if ch := changeOf(h.plan(doc), KindIntegrationPolicy, "missing"); ch == nil || ch.Action != plan.Blocked || !strings.Contains(ch.Reason, "adopt never creates") {
		t.Errorf("adopt of a missing policy: %+v", ch)
	}
}

// Kibana's refusals, each blocked in the plan with Kibana's message, and
// what fleetsim (which follows Kibana) answers when the rule is not
// mirrored. Sources: FLEET/server/services/package_policies/utils.ts
// (preflightCheckPackagePolicy, canUseMultipleAgentPolicies,
// canUseOutputForIntegration), FLEET/common/services/output_helpers.ts
// (getAllowedOutputTypesForIntegration, getAllowedOutputTypesForPackagePolicy:
// agentless), FLEET/server/services/package_policy.ts
// (hosted agent policies; PackagePolicyNameExistsError).
func TestSim_IntegrationPolicy_KibanaRefusals(t *testing.T) {
	logstash := schema.Output{ID: "ls", Name: "ls", Type: "logstash", Hosts: []string{"ls.example:5044"}}
	base := func(license string) (*simHarness, *schema.Document) {
		h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: license})
		h.withLicense()
		doc := &schema.Document{
			Outputs:       []schema.Output{logstash},
			AgentPolicies: []schema.AgentPolicy{{ID: "a", Name: "A", Namespace: "default"}, {ID: "b", Name: "B", Namespace: "default"}},
		}
		h.apply(doc)
		return h, doc
	}
	nginx := func(ids ...string) schema.PackagePolicy {
		return schema.PackagePolicy{ID: "n1", Name: "n1", Namespace: "default", Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: ids}
	}
	tests := []struct {
		name    string
		license string
		seed    func(h *simHarness)
		pp      func() schema.PackagePolicy
		want    string // Kibana's message, quoted in the reason
	}{
		{"reusable below enterprise", "platinum", nil, func() schema.PackagePolicy { return nginx("a", "b") },
			"Reusable integration policies are only available with an Enterprise license"},
		{"output_id below enterprise", "platinum", nil, func() schema.PackagePolicy { p := nginx("a"); p.OutputID = schema.Some("ls"); return p },
			"Output per integration is only available with an enterprise license"},
		{"fleet_server only sends to elasticsearch", "enterprise", nil, func() schema.PackagePolicy {
			return schema.PackagePolicy{ID: "fs", Name: "fs", Namespace: "default", Package: &schema.PackagePolicyPackage{Name: "fleet_server", Version: "1.6.0"}, PolicyIDs: []string{"a"}, OutputID: schema.Some("ls")}
		}, `Output type "logstash" is not usable with package "fleet_server"`},
		{"agentless policies only send to elasticsearch", "enterprise", nil, func() schema.PackagePolicy {
			p := nginx("a")
			p.OutputID, p.SupportsAgentless = schema.Some("ls"), ptr(true)
			return p
		}, `Output type "logstash" is not usable with package "nginx"`},
		{"hosted agent policy", "enterprise", func(h *simHarness) {
			if err := h.sim.Seed(&fleetsim.SeedFile{Clusters: map[string]*fleetsim.ClusterSeed{"main": {AgentPolicies: []fleetsim.SeedAgentPolicy{{ID: "hosted", Name: "Hosted", Namespace: "default", IsManaged: true}}}}}); err != nil {
				t.Fatal(err)
			}
		}, func() schema.PackagePolicy { return nginx("hosted") }, "Cannot update integrations of hosted agent policy hosted"},
		{"name taken", "enterprise", func(h *simHarness) {
			if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"name": "n1", "namespace": "default", "policy_ids": []any{"a"},
				"package": map[string]any{"name": "nginx", "version": "2.1.0"}}); err != nil {
				t.Fatal(err)
			}
		}, func() schema.PackagePolicy { return nginx("a") }, "An integration policy with the name n1 already exists. Please rename it or choose a different name."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, doc := base(tt.license)
			if tt.seed != nil {
				tt.seed(h)
			}
			pp := tt.pp()
			doc.PackagePolicies = []schema.PackagePolicy{pp}
			if pp.Package.Name == "fleet_server" {
				doc.Packages = []schema.Package{{Name: "fleet_server", Version: "1.6.0"}}
			}
			p := h.plan(doc)
			ch := changeOf(p, KindIntegrationPolicy, pp.ID)
			if ch == nil || ch.Action != plan.Blocked || !strings.Contains(ch.Reason, tt.want) {
				t.Fatalf("want blocked with %q; plan:\n%s", tt.want, renderText(p))
			}
			// Kibana (fleetsim) refuses the same body with the same message.
			body := integrationPolicyCreateBody(ipBodyInput{want: &pp, fields: integrationPolicyFields(pp), version: pp.Package.Version})
			_, err := h.kb.CreateIntegrationPolicy(context.Background(), body)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("fleetsim answered %v, want %q", err, tt.want)
			}
		})
	}
}

// The Elastic Defend warning (defend.go) on a plan against fleetsim: for a
// declared Defend integration whose agent policy sends to a remote output,
// and for one that exists in Fleet without being declared.
func TestSim_IntegrationPolicy_DefendOnRemoteOutputWarns(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise"})
	h.secrets["env:WEST_TOKEN"] = "west-service-token-0123456789"
	doc := &schema.Document{
		Outputs: []schema.Output{{ID: "remote-west", Name: "remote-west", Type: "remote_elasticsearch", Hosts: []string{"https://west.example:9200"},
			Secrets: &schema.OutputSecrets{ServiceToken: &schema.SecretRef{Env: "WEST_TOKEN"}}}},
		AgentPolicies: []schema.AgentPolicy{
			{ID: "edr", Name: "EDR", Namespace: "default", DataOutputID: ptr("remote-west")},
			{ID: "laptops", Name: "Laptops", Namespace: "default", DataOutputID: ptr("remote-west")},
		},
		PackagePolicies: []schema.PackagePolicy{{ID: "defend-edr", Name: "defend edr", Namespace: "default",
			Package: &schema.PackagePolicyPackage{Name: "endpoint", Version: "9.0.0"}, PolicyIDs: []string{"edr"}}},
	}
	h.apply(doc)
	if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"id": "defend-by-hand", "name": "defend by hand", "namespace": "default",
		"policy_ids": []any{"laptops"}, "package": map[string]any{"name": "endpoint", "version": "9.0.0"}}); err != nil {
		t.Fatal(err)
	}
	p := h.plan(doc)
	if !p.Empty() {
		t.Fatalf("plan not empty:\n%s", renderText(p))
	}
	for _, want := range []string{
		`agent policy edr ("EDR") holds the Elastic Defend integration defend-edr, whose data goes to the remote_elasticsearch output remote-west (the agent policy's data_output_id)`,
		`agent policy laptops ("Laptops") holds the Elastic Defend integration defend-by-hand`,
	} {
		if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, want) && strings.Contains(w, RemoteOutputDocs) }) {
			t.Errorf("warnings %q\nlack %q", p.Warnings, want)
		}
	}
	// The undeclared one is what `fleetform import` would take over.
	if p.Unmanaged == nil || !slices.Contains(p.Unmanaged.Objects, plan.Object{Cluster: "main", Kind: KindIntegrationPolicy, ID: "defend-by-hand", Name: "defend by hand"}) ||
		p.Unmanaged.Counts[KindIntegrationPolicy] != 1 {
		t.Errorf("unmanaged = %+v", p.Unmanaged)
	}
}

// import --adopt records an existing integration policy whose declared
// fields match, its secret var by Fleet secret id only (unverified); the
// plan then leaves the secret alone until its reference changes.
func TestSim_IntegrationPolicy_ImportAdopt(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", License: "enterprise", SecretStorage: "on"})
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}}}
	h.apply(doc)
	if _, err := h.kb.CreateIntegrationPolicy(context.Background(), map[string]any{"id": "nginx-web", "name": "nginx web", "namespace": "default",
		"policy_ids": []any{"web"}, "package": map[string]any{"name": "nginx", "version": "2.1.0"},
		"inputs": map[string]any{"nginx-httpjson": map[string]any{"enabled": false, "vars": map[string]any{"password": "set-by-hand"}}}}); err != nil {
		t.Fatal(err)
	}
	f := false
	doc.PackagePolicies = []schema.PackagePolicy{{ID: "nginx-web", Name: "nginx web", Namespace: "default",
		Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, PolicyIDs: []string{"web"},
		Inputs: map[string]schema.PackagePolicyInput{"nginx-httpjson": {Enabled: &f, Vars: schema.Vars{"password": map[string]any{"env": "SPLUNK_PASSWORD"}}}}}}
	adopted, refused, err := h.r.Adopt(context.Background(), doc, "rev")
	if err != nil || len(refused) != 0 || !slices.Contains(adopted, "main/package_policy/nginx-web") {
		t.Fatalf("adopt: adopted %v refused %v err %v", adopted, refused, err)
	}
	h.sim.ClearRequests()
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after import --adopt:\n%s", renderText(p))
	}
	// A new reference is written.
	h.secrets["env:SPLUNK_PASSWORD_2"] = "new-password"
	doc.PackagePolicies[0].Inputs["nginx-httpjson"].Vars["password"] = map[string]any{"env": "SPLUNK_PASSWORD_2"}
	ch := changeOf(h.plan(doc), KindIntegrationPolicy, "nginx-web")
	if ch == nil || ch.Action != plan.Update || !strings.Contains(ch.Fields[0].Note, "reference changed") {
		t.Fatalf("change = %+v", ch)
	}
}
