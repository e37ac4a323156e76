package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// Values read from secret references (package_policies_values_apply.go):
// the plan checks a variable given as {env:} or {file:} for presence only,
// so an integer variable fed "abc" from the environment passed the plan
// and apply wrote every other change before Kibana refused the policy
// with 400. Apply now checks the values it read before its first write:
// it writes nothing anywhere, and its error names the policy, the variable
// and Kibana's message — never the value.
func TestSim_IntegrationPolicy_ReferencedValuesCheckedBeforeWrites(t *testing.T) {
	fleetServer := func(vars schema.Vars) schema.PackagePolicy {
		return schema.PackagePolicy{ID: "bad", Name: "bad", Namespace: "default", PolicyIDs: []string{"fs"},
			Package: &schema.PackagePolicyPackage{Name: "fleet_server", Version: "1.6.0"},
			Inputs:  map[string]schema.PackagePolicyInput{"fleet_server-fleet-server": {Vars: vars}}}
	}
	env := func(name string) map[string]any { return map[string]any{"env": name} }
	badYAML := filepath.Join(t.TempDir(), "processors.yml")
	if err := os.WriteFile(badYAML, []byte("- add_fields: [zq-unclosed-7319"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		secrets map[string]string    // the references' values
		before  map[string]string    // when set: applied first with these values (the bad one is an update)
		bad     schema.PackagePolicy // fed from the references
		want    string               // Kibana's whole message
		where   string               // the variable and its reference, in fleetform's terms
		value   string               // must appear nowhere (not hex: the plan's fingerprint is)
	}{{
		name:    "integer from env",
		secrets: map[string]string{"env:MAX_AGENTS": "zqx-ten"},
		bad:     fleetServer(schema.Vars{"max_agents": env("MAX_AGENTS")}),
		want:    `Package policy is invalid: inputs.fleet-server.vars.max_agents: ["Invalid integer"]`,
		where:   "inputs.fleet_server-fleet-server.vars.max_agents read from env:MAX_AGENTS",
		value:   "zqx-ten",
	}, {
		name:    "multi var from env holds a string",
		secrets: map[string]string{"env:ACCESS_LOG": "/srv/logs/zz-access-4471.log"},
		bad:     nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"paths": env("ACCESS_LOG")}), nil),
		want:    `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.paths: ["Invalid format for Paths: expected array"]`,
		where:   "inputs.nginx-logfile.streams.nginx.access.vars.paths read from env:ACCESS_LOG",
		value:   "zz-access-4471",
	}, {
		name: "yaml from file",
		bad: nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"paths": []any{"/srv/a.log"},
			"processors": map[string]any{"file": badYAML}}), nil),
		want:  `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.processors: ["Invalid YAML format"]`,
		where: "inputs.nginx-logfile.streams.nginx.access.vars.processors read from file:" + badYAML,
		value: "zq-unclosed-7319",
	}, {
		// At plan a referenced value meets a required_vars condition's
		// value (it is not known); apply compares what it read.
		name:    "required_vars: a condition's value read at apply",
		secrets: map[string]string{"env:AUTH_TYPE": "bearer_auth", "env:ES_API_KEY": "k-zz-9981"},
		bad:     securityPolicy("bad", schema.Vars{"url": "https://es.example:9200", "auth_type": env("AUTH_TYPE"), "api_key": env("ES_API_KEY")}),
		want: "Package policy is invalid: " + alertRequired + `api_auth: [{"name":"auth_type","invalid":true}]` + "\n" +
			alertRequired + `basic_auth: [{"name":"auth_type","invalid":true},{"name":"username","invalid":true},{"name":"password","invalid":true}]` + "\n" +
			alertRequired + `bearer_auth: [{"name":"bearer_token","invalid":true}]`,
		where: "inputs.elastic_security-cel.streams.elastic_security.alert: required_vars group api_auth not met (auth_type)",
		value: "k-zz-9981",
	}, {
		name:    "update: the value changed under the same reference",
		before:  map[string]string{"env:MAX_AGENTS": "5"},
		secrets: map[string]string{"env:MAX_AGENTS": "zqx-ten"},
		bad:     fleetServer(schema.Vars{"max_agents": env("MAX_AGENTS")}),
		want:    `Package policy is invalid: inputs.fleet-server.vars.max_agents: ["Invalid integer"]`,
		where:   "inputs.fleet_server-fleet-server.vars.max_agents read from env:MAX_AGENTS",
		value:   "zqx-ten",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}, {ID: "fs", Name: "FS", Namespace: "default"}}}
			action := plan.Create
			if tc.before != nil {
				for k, v := range tc.before {
					h.secrets[k] = v
				}
				doc.PackagePolicies = []schema.PackagePolicy{tc.bad}
				h.apply(doc)
				action = plan.Update
			}
			for k, v := range tc.secrets {
				h.secrets[k] = v
			}
			// Other changes apply would otherwise write first.
			doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: "db", Name: "DB", Namespace: "default"})
			doc.PackagePolicies = []schema.PackagePolicy{tc.bad, nginxPolicy("good", accessPaths("/srv/good.log"), nil)}

			p := h.plan(doc)
			if ch := changeOf(p, KindIntegrationPolicy, "bad"); ch == nil || ch.Action != action {
				t.Fatalf("the plan does not show the %s it cannot check:\n%s", action, renderText(p))
			}
			h.sim.ClearRequests()
			res, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			if w := h.writes(); len(w) != 0 {
				t.Errorf("apply wrote before refusing: %v", w)
			}
			if !errors.Is(err, ErrReferencedValuesRefused) || !errors.Is(err, ErrNotConverged) {
				t.Fatalf("apply: err = %v, want ErrReferencedValuesRefused", err)
			}
			if len(res.Outcomes) != 0 {
				t.Errorf("outcomes of an apply that wrote nothing: %+v", res.Outcomes)
			}
			msg := err.Error()
			for _, want := range []string{"integration policy bad: Kibana would refuse it with 400: " + tc.want, tc.where, "nothing was written"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			planJSON, _ := json.Marshal(p)
			for what, text := range map[string]string{"error": msg, "logs": h.logs.String(), "plan": allRenderings(t, p) + string(planJSON)} {
				if strings.Contains(text, tc.value) {
					t.Errorf("the %s holds the referenced value %q:\n%s", what, tc.value, text)
				}
			}

			// plan == apply: fleetsim answers the body apply would have sent
			// with exactly that 400, once the agent policies exist.
			rest := *doc
			rest.PackagePolicies = rest.PackagePolicies[1:]
			h.apply(&rest)
			err = sendAsApplyWould(t, h, tc.bad)
			var ae *kibana.APIError
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != tc.want {
				t.Errorf("fleetsim answers %v, apply said 400 %s", err, tc.want)
			}
		})
	}
}

// A valid value read from a reference is applied: the check refuses only
// what Kibana would.
func TestSim_IntegrationPolicy_ReferencedValuesValidApply(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	h.secrets["env:MAX_AGENTS"] = " 0x10 " // Number(" 0x10 ") is 16
	h.secrets["env:AZURE_STORAGE_KEY"], h.secrets["env:AZURE_CONNECTION"] = "k", "c"
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}, {ID: "fs", Name: "FS", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{{ID: "fsp", Name: "fsp", Namespace: "default", PolicyIDs: []string{"fs"},
			Package: &schema.PackagePolicyPackage{Name: "fleet_server", Version: "1.6.0"},
			Inputs:  map[string]schema.PackagePolicyInput{"fleet_server-fleet-server": {Vars: schema.Vars{"max_agents": map[string]any{"env": "MAX_AGENTS"}}}}},
			azurePolicy("az", map[string]any{"env": "AZURE_CONNECTION"}),
			// required_vars: api_auth met by a reference's value.
			securityPolicy("sec", schema.Vars{"url": "https://es.example:9200", "api_key": map[string]any{"env": "ES_API_KEY"}})}}
	h.secrets["env:ES_API_KEY"] = "k-1"
	res := h.apply(doc)
	if c := res.Counts(); c[StatusApplied] != 5 {
		t.Errorf("outcomes %v", c)
	}
	if p := h.plan(doc); !p.Empty() {
		t.Errorf("plan after apply:\n%s", renderText(p))
	}
}

// The values check used to write its reference placeholders into the
// declared fields it shares with the plan and the create body: a create's
// inputs field showed the referenced var as {} ("vars":{"max_agents":{}}).
func TestSim_IntegrationPolicy_ValuesCheckLeavesFieldsAlone(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	h.secrets["env:MAX_AGENTS"] = "5"
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "fs", Name: "FS", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{{ID: "fsp", Name: "fsp", Namespace: "default", PolicyIDs: []string{"fs"},
			Package: &schema.PackagePolicyPackage{Name: "fleet_server", Version: "1.6.0"},
			Inputs:  map[string]schema.PackagePolicyInput{"fleet_server-fleet-server": {Vars: schema.Vars{"max_agents": map[string]any{"env": "MAX_AGENTS"}}}}}}}
	ch := changeOf(h.plan(doc), KindIntegrationPolicy, "fsp")
	if ch == nil {
		t.Fatal("no change")
	}
	for _, f := range ch.Fields {
		if f.Path != "inputs" {
			continue
		}
		if b, _ := json.Marshal(f.After); string(b) != `{"fleet_server-fleet-server":{}}` {
			t.Errorf("inputs field = %s, want the declared inputs without the reference", b)
		}
	}
}

// Kibana's one message that quotes a part of the value — the URL scheme of
// a url variable — is shown without it for a value read from a reference.
func TestWithoutValue(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`URL scheme "http" is not allowed. Allowed schemes: https`, "URL scheme (of the value, not shown) is not allowed. Allowed schemes: https"},
		{"Invalid URL format", "Invalid URL format"},
		{"Invalid integer", "Invalid integer"},
	} {
		if got := withoutValue([]string{tc.in}); got[0] != tc.want {
			t.Errorf("withoutValue(%q) = %q, want %q", tc.in, got[0], tc.want)
		}
	}
	// Through the check: a url variable fed "http://…" from a reference.
	d := packageDefaults(kibana.PackageInfo{Name: "svc", Version: "1.0.0", Type: "integration",
		Vars: []kibana.PackageVar{{Name: "endpoint", Type: "url", Title: "Endpoint", URLAllowedSchemes: []string{"https"}}}})
	p := schema.PackagePolicy{ID: "svc", Package: &schema.PackagePolicyPackage{Name: "svc", Version: "1.0.0"},
		Vars: schema.Vars{"endpoint": map[string]any{"env": "SVC_URL"}}}
	s := &ipStep{change: plan.Change{ID: "svc", Action: plan.Create}, body: ipBodyInput{want: &p, fields: integrationPolicyFields(p), version: "1.0.0"},
		secrets: integrationPolicySecrets(p), write: map[string]bool{"vars.endpoint": true},
		values: &valueCheck{defaults: &d, pkg: pkgKey{"svc", "1.0.0"}, rules: valueRulesFor("")}}
	cache := newSecretCache(func(context.Context, schema.SecretRef) (secret.Value, error) {
		return secret.New("gopher-q9://svc.example"), nil
	})
	got := referencedValueErrors(context.Background(), s, cache)
	want := `integration policy svc: Kibana would refuse it with 400: Package policy is invalid: vars.endpoint: ["URL scheme (of the value, not shown) is not allowed. Allowed schemes: https"]`
	if !strings.Contains(got, want) || strings.Contains(got, "gopher-q9") {
		t.Errorf("got %s\nwant it to hold %s and not the scheme", got, want)
	}
}
