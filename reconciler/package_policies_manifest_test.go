package reconciler

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/fleetsim/simhttp"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Integration policies checked against their package's definitions
// (package_policies_manifest.go). Kibana builds a simplified create or
// update with simplifiedPackagePolicytoNewPackagePolicy
// (FLEET/common/services/simplified_package_policy_helper.ts in
// elastic/kibana) and refuses with a 400 PackagePolicyValidationError the
// first declared key the package's defaults lack:
//
//	`Variable ${ctxMessage}:${varKey} not found`   (assignVariables)
//	`Input not found: ${inputId}`
//	`Stream not found ${inputId}: ${streamId}`
//
// Before the check the plan let such a policy through and apply failed at
// Kibana after the other changes were written (fleetsim:
// "400 Stream not found nginx-logfile: apache.access" after 18 applied
// changes).

// secretConnection is a clear-text value for azure's connection_string,
// which the package marks secret: true (elastic/integrations
// packages/azure/manifest.yml: `name: connection_string`, `type: password`,
// `secret: true`). Its name says nothing secret, so schema's name check
// does not refuse it; only the package's definition tells.
const secretConnection = "Endpoint=sb://ns.example/;SharedAccessKeyName=ff;SharedAccessKey=c2VjcmV0LWNsZWFyLXRleHQ="

func azurePolicy(id string, connection any) schema.PackagePolicy {
	return schema.PackagePolicy{ID: id, Name: id, Namespace: "default", PolicyIDs: []string{"web"},
		Package: &schema.PackagePolicyPackage{Name: "azure", Version: "1.1.0"},
		Vars: schema.Vars{"eventhub": "insights-activity-logs", "storage_account": "ffstate", "connection_string": connection,
			"storage_account_key": map[string]any{"env": "AZURE_STORAGE_KEY"}},
		Inputs: map[string]schema.PackagePolicyInput{"activitylogs-azure-eventhub": {Streams: map[string]schema.PackagePolicyStream{
			"azure.activitylogs": {Vars: schema.Vars{"tags": []any{"azure", "forwarded"}}}}}},
	}
}

func nginxPolicy(id string, inputs map[string]schema.PackagePolicyInput, vars schema.Vars) schema.PackagePolicy {
	return schema.PackagePolicy{ID: id, Name: id, Namespace: "default", PolicyIDs: []string{"web"},
		Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}, Vars: vars, Inputs: inputs}
}

func accessPaths(paths ...any) map[string]schema.PackagePolicyInput {
	return map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
		"nginx.access": {Vars: schema.Vars{"paths": paths}}}}}
}

// packageInfoReads counts GET /api/fleet/epm/packages/{name}/{version}.
func packageInfoReads(h *simHarness) int {
	n := 0
	for _, r := range h.sim.Requests() {
		rest, ok := strings.CutPrefix(r.Path, "/api/fleet/epm/packages/")
		if ok && r.Method == http.MethodGet && strings.Count(rest, "/") == 1 && !strings.HasPrefix(rest, "installed") {
			n++
		}
	}
	return n
}

// allRenderings is the plan in every output format.
func allRenderings(t *testing.T, p *plan.Plan) string {
	t.Helper()
	var b bytes.Buffer
	for _, w := range []func(*bytes.Buffer, *plan.Plan) error{
		func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteText(b, p) },
		func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteJSON(b, p) },
		func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteMarkdown(b, p) },
		func(b *bytes.Buffer, p *plan.Plan) error { return plan.WriteGitHub(b, p) },
	} {
		if err := w(&b, p); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestSim_IntegrationPolicy_CheckedAgainstPackage(t *testing.T) {
	f := false
	cases := []struct {
		name string
		// existing is created first (nil: the bad policy is a create).
		existing *schema.PackagePolicy
		bad      schema.PackagePolicy
		want     []string // in the blocked change's reason
	}{{
		name: "unknown input",
		bad:  nginxPolicy("bad", map[string]schema.PackagePolicyInput{"nginx-tcp": {Enabled: &f}}, nil),
		want: []string{`Kibana refuses it with 400 "Input not found: nginx-tcp"`, "nginx-logfile, nginx-httpjson, nginx-nginx/metrics"},
	}, {
		// The tester's case: apache's data stream under nginx's input.
		name: "unknown stream",
		bad: nginxPolicy("bad", map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
			"apache.access": {Vars: schema.Vars{"paths": []any{"/var/log/apache2/access.log"}}}}}}, nil),
		want: []string{`Kibana refuses it with 400 "Stream not found nginx-logfile: apache.access"`, "its streams: nginx.access, nginx.error"},
	}, {
		// nginx has no package vars: packageToPackagePolicy leaves vars
		// undefined and assignVariables(vars, undefined) throws with ctx ''.
		name: "unknown package var",
		bad:  nginxPolicy("bad", accessPaths("/srv/access.log"), schema.Vars{"region": "eu"}),
		want: []string{`Kibana refuses it with 400 "Variable :region not found"`},
	}, {
		name: "unknown input var",
		bad: nginxPolicy("bad", map[string]schema.PackagePolicyInput{"nginx-httpjson": {Enabled: &f, Vars: schema.Vars{
			"url": "https://splunk.example:8089", "proxy_url": "http://proxy.example:3128"}}}, nil),
		want: []string{`Kibana refuses it with 400 "Variable nginx-httpjson:proxy_url not found"`, "its variables there: password, ssl, token, url, username"},
	}, {
		name: "unknown stream var",
		bad: nginxPolicy("bad", map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
			"nginx.access": {Vars: schema.Vars{"paths": []any{"/srv/access.log"}, "exclude_files": []any{".gz$"}}}}}}, nil),
		want: []string{`Kibana refuses it with 400 "Variable nginx-logfile nginx.access:exclude_files not found"`},
	}, {
		name: "unknown stream on update",
		existing: func() *schema.PackagePolicy {
			p := nginxPolicy("bad", accessPaths("/srv/access.log"), nil)
			return &p
		}(),
		bad: nginxPolicy("bad", map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
			"nginx.access":  {Vars: schema.Vars{"paths": []any{"/srv/access.log"}}},
			"apache.access": {Enabled: &f}}}}, nil),
		want: []string{`Kibana refuses it with 400 "Stream not found nginx-logfile: apache.access"`},
	}, {
		name: "secret var in clear text",
		bad:  azurePolicy("bad", secretConnection),
		want: []string{"vars.connection_string: package azure 1.1.0 marks this variable secret: true, and it is given in clear text", "{env: NAME} or {file: PATH}"},
	}, {
		name: "secret var in clear text on update",
		existing: func() *schema.PackagePolicy {
			p := azurePolicy("bad", map[string]any{"env": "AZURE_CONNECTION"})
			return &p
		}(),
		bad:  azurePolicy("bad", secretConnection),
		want: []string{"vars.connection_string: package azure 1.1.0 marks this variable secret: true, and it is given in clear text"},
	}, {
		// getPackageInfo: PackageNotFoundError (404) for a version neither
		// installed nor in the registry.
		name: "package version not in the registry",
		bad: func() schema.PackagePolicy {
			p := nginxPolicy("bad", accessPaths("/srv/access.log"), nil)
			p.Package.Version = "9.9.9"
			return p
		}(),
		want: []string{"package nginx 9.9.9 is neither installed nor in Kibana's package registry", "404 [nginx-9.9.9] package not found in registry"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
			h.secrets["env:AZURE_STORAGE_KEY"] = "storage-key-1"
			h.secrets["env:AZURE_CONNECTION"] = "connection-1"
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}}}
			if tc.existing != nil {
				doc.PackagePolicies = []schema.PackagePolicy{*tc.existing}
				h.apply(doc)
			}
			// Next to the bad policy: a new agent policy, and a valid
			// integration policy in the agent policy both use.
			doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: "db", Name: "DB", Namespace: "default"})
			good := nginxPolicy("good", accessPaths("/srv/good.log"), nil)
			doc.PackagePolicies = []schema.PackagePolicy{tc.bad, good}

			h.sim.ClearRequests()
			p := h.plan(doc)
			ch := changeOf(p, KindIntegrationPolicy, "bad")
			if ch == nil || ch.Action != plan.Blocked {
				t.Fatalf("bad policy not blocked:\n%s", renderText(p))
			}
			for _, w := range tc.want {
				if !strings.Contains(ch.Reason, w) {
					t.Errorf("reason lacks %q:\n%s", w, ch.Reason)
				}
			}
			if c := changeOf(p, KindIntegrationPolicy, "good"); c == nil || c.Action != plan.Create {
				t.Errorf("the valid policy is not a create:\n%s", renderText(p))
			}
			if reads := packageInfoReads(h); reads < 1 || reads > 2 {
				t.Errorf("plan read the package info %d times, want once per package and version", reads)
			}
			if text := allRenderings(t, p); strings.Contains(text, secretConnection) || strings.Contains(text, "c2VjcmV0") {
				t.Errorf("a plan rendering shows the secret var's value:\n%s", text)
			}

			h.sim.ClearRequests()
			res, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			if err != nil && !errors.Is(err, ErrBlocked) {
				t.Fatalf("apply: %v", err)
			}
			for _, w := range h.writes() {
				if strings.HasPrefix(w, "PUT /api/fleet/package_policies/bad") {
					t.Errorf("apply wrote the blocked policy: %s", w)
				}
			}
			if tc.existing == nil {
				if _, err := h.kb.GetIntegrationPolicy(context.Background(), "bad"); !kibana.IsNotFound(err) {
					t.Errorf("the blocked policy exists after apply (err %v)", err)
				}
			}
			if got := slices.Collect(func(yield func(string) bool) {
				for _, w := range h.writes() {
					if w == "POST /api/fleet/package_policies" && !yield(w) {
						return
					}
				}
			}); len(got) != 1 {
				t.Errorf("apply sent %d integration policy creates, want 1 (the valid one): %v", len(got), h.writes())
			}
			// Every other change applied; only the blocked one was not.
			for _, o := range res.Outcomes {
				want := StatusApplied
				if o.Change.Kind == KindIntegrationPolicy && o.Change.ID == "bad" {
					want = StatusBlocked
				}
				if o.Status != want {
					t.Errorf("%s %s: %s (%v), want %s", o.Change.Kind, o.Change.ID, o.Status, o.Err, want)
				}
			}
			if text := allRenderings(t, res.Plan); strings.Contains(text, secretConnection) {
				t.Error("the apply's plan shows the secret var's value")
			}
			if strings.Contains(h.logs.String(), secretConnection) {
				t.Error("the logs show the secret var's value")
			}
			// The next plan holds only the blocked change.
			next := h.plan(doc)
			if len(next.Changes) != 1 || next.Changes[0].ID != "bad" || next.Changes[0].Action != plan.Blocked {
				t.Errorf("plan after apply:\n%s", renderText(next))
			}
		})
	}
}

// Kibana answers 403 to credentials without Integrations read (the route's
// READ_PACKAGE_INFO_SECURITY, FLEET/server/routes/epm/index.ts: any of
// integrations read, fleet setup, fleet all); the plan blocks with
// that reason and hides the declared vars' values, since it cannot tell
// which the package marks secret.
func TestSim_IntegrationPolicy_PackageInfoForbidden(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	if err := h.sim.AddFault(simhttp.Fault{Method: "GET", PathPattern: "/api/fleet/epm/packages/azure/1.1.0", Listener: "kibana", Status: http.StatusForbidden}); err != nil {
		t.Fatal(err)
	}
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{azurePolicy("az", secretConnection)}}
	p := h.plan(doc)
	ch := changeOf(p, KindIntegrationPolicy, "az")
	if ch == nil || ch.Action != plan.Blocked || !strings.Contains(ch.Reason, "(GET /api/fleet/epm/packages/azure/1.1.0: 403") ||
		!strings.Contains(ch.Reason, "Integrations read privilege") {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	if text := allRenderings(t, p); strings.Contains(text, secretConnection) || strings.Contains(text, "insights-activity-logs") {
		t.Errorf("a plan rendering shows a var's value although the package's definitions are unknown:\n%s", text)
	}
}

// A valid policy is created; once converged the plan is empty and reads no
// package info (the check runs for creates and updates only), and the
// first plan read each package and version once, however many policies
// use it.
func TestSim_IntegrationPolicy_ValidCreatesThenNoPackageInfoReads(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	h.secrets["env:AZURE_STORAGE_KEY"] = "storage-key-1"
	h.secrets["env:AZURE_CONNECTION"] = "connection-1"
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{
			azurePolicy("az", map[string]any{"env": "AZURE_CONNECTION"}),
			nginxPolicy("n1", accessPaths("/srv/1.log"), nil),
			nginxPolicy("n2", accessPaths("/srv/2.log"), nil),
		}}
	h.sim.ClearRequests()
	p := h.plan(doc)
	for _, id := range []string{"az", "n1", "n2"} {
		if ch := changeOf(p, KindIntegrationPolicy, id); ch == nil || ch.Action != plan.Create {
			t.Fatalf("%s not a create:\n%s", id, renderText(p))
		}
	}
	if n := packageInfoReads(h); n != 2 {
		t.Errorf("plan read package info %d times, want 2 (azure 1.1.0, nginx 2.1.0)", n)
	}
	h.apply(doc)
	got := h.integrationPolicy("az")
	if ref, _ := got.Vars["connection_string"].(map[string]any); ref["isSecretRef"] != true {
		t.Errorf("connection_string stored as %v, want a secret reference", got.Vars["connection_string"])
	}
	h.sim.ClearRequests()
	if p := h.plan(doc); !p.Empty() {
		t.Fatalf("plan after apply:\n%s", renderText(p))
	}
	if n := packageInfoReads(h); n != 0 {
		t.Errorf("converged plan read package info %d times, want 0", n)
	}
}

// The package's defaults as packageToPackagePolicyInputs builds them
// (FLEET/common/services/package_to_package_policy.ts) for what fleetsim's
// manifests do not have: a policy template that lists its data streams by
// path (getStreamsForInputType's dataStreamPaths; elastic/integrations
// packages/azure/manifest.yml: templates eventhub and activitylogs, both
// input azure-eventhub), an input package (getNormalizedInputs and
// getNormalizedDataStreams, FLEET/common/services/policy_template.ts:
// input `${template}-${input}` without vars, one stream of dataset
// `${package}.${template}` with the template's vars and
// data_stream.dataset), and an input's name (getInputEffectiveName: name
// ?? type).
func TestPackageDefaults_TemplatesInputPackagesNames(t *testing.T) {
	str := func(s string) *string { return &s }
	azure := kibana.PackageInfo{Name: "azure", Version: "1.18.0", Type: "integration",
		PolicyTemplates: []kibana.PackagePolicyTemplate{
			{Name: "eventhub", DataStreams: []string{"eventhub"}, Inputs: []kibana.PackageInput{{Type: "azure-eventhub"}}},
			{Name: "activitylogs", DataStreams: []string{"activitylogs"}, Inputs: []kibana.PackageInput{{Type: "azure-eventhub"}}},
		},
		DataStreams: []kibana.PackageDataStream{
			{Type: "logs", Dataset: "azure.eventhub", Path: "eventhub", Streams: []kibana.PackageStream{{Input: "azure-eventhub"}}},
			{Type: "logs", Dataset: "azure.activitylogs", Path: "activitylogs", Streams: []kibana.PackageStream{{Input: "azure-eventhub"}}},
		}}
	sqlInput := kibana.PackageInfo{Name: "sql_input", Version: "0.6.0", Type: "input",
		PolicyTemplates: []kibana.PackagePolicyTemplate{{Name: "sql_query", Type: "metrics", Input: str("sql/metrics"),
			Vars: []kibana.PackageVar{{Name: "hosts", Type: "text", Multi: true}, {Name: "sql_query", Type: "text"}}}}}
	named := kibana.PackageInfo{Name: "otel", Version: "1.0.0", Type: "integration",
		PolicyTemplates: []kibana.PackagePolicyTemplate{{Name: "otel", Inputs: []kibana.PackageInput{{Type: "otelcol", Name: "receiver"}}}}}
	for _, tc := range []struct {
		name   string
		info   kibana.PackageInfo
		inputs map[string]schema.PackagePolicyInput
		want   []string // reasons; nil: accepted
	}{
		{"template's own data stream", azure, map[string]schema.PackagePolicyInput{"activitylogs-azure-eventhub": {Streams: map[string]schema.PackagePolicyStream{"azure.activitylogs": {}}}}, nil},
		{"another template's data stream", azure, map[string]schema.PackagePolicyInput{"activitylogs-azure-eventhub": {Streams: map[string]schema.PackagePolicyStream{"azure.eventhub": {}}}},
			[]string{`Kibana refuses it with 400 "Stream not found activitylogs-azure-eventhub: azure.eventhub": input activitylogs-azure-eventhub of package azure 1.18.0 has no stream (data stream) "azure.eventhub" (its streams: azure.activitylogs)`}},
		{"input package stream vars", sqlInput, map[string]schema.PackagePolicyInput{"sql_query-sql/metrics": {Streams: map[string]schema.PackagePolicyStream{
			"sql_input.sql_query": {Vars: schema.Vars{"hosts": []any{"root@tcp(db:3306)/"}, "data_stream.dataset": "sql.mine"}}}}}, nil},
		{"input package input vars", sqlInput, map[string]schema.PackagePolicyInput{"sql_query-sql/metrics": {Vars: schema.Vars{"hosts": []any{"x"}}}},
			[]string{`Kibana refuses it with 400 "Variable sql_query-sql/metrics:hosts not found": package sql_input 0.6.0 has no variable "hosts" on input sql_query-sql/metrics (its variables there: none)`}},
		{"input's name keys it", named, map[string]schema.PackagePolicyInput{"otel-receiver": {}}, nil},
		{"not its type", named, map[string]schema.PackagePolicyInput{"otel-otelcol": {}},
			[]string{`Kibana refuses it with 400 "Input not found: otel-otelcol": package otel 1.0.0 has no input "otel-otelcol" (its inputs, <policy_template>-<input type>: otel-receiver)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := packageDefaults(tc.info)
			got := checkAgainstPackage(&schema.PackagePolicy{ID: "p", Inputs: tc.inputs}, &d, pkgKey{tc.info.Name, tc.info.Version})
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}
