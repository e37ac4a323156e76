package reconciler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Variable values Kibana refuses (package_policies_values.go): the
// create and update handlers validate the policy they build from the
// package's defaults and the body (validatePackagePolicyOrThrow,
// FLEET/server/services/package_policy.ts; validatePackagePolicyConfig,
// FLEET/common/services/validate_package_policy.ts) and answer 400
// "Package policy is invalid: <key>: <errors>". Before this check the plan
// let such a policy through and apply failed at Kibana after the other
// changes were written.

// kibanaMessage is the 400 message a values reason quotes.
func kibanaMessage(reason string) string {
	_, msg, ok := strings.Cut(reason, "Kibana refuses it with 400: ")
	if !ok {
		return ""
	}
	msg, _, _ = strings.Cut(msg, "\n(checked against package ")
	return msg
}

func nginxStream(dataset string, vars schema.Vars) map[string]schema.PackagePolicyInput {
	return map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{dataset: {Vars: vars}}}}
}

func TestSim_IntegrationPolicy_ValuesCheckedAgainstPackage(t *testing.T) {
	tr := true
	fleetServer := func(vars schema.Vars) schema.PackagePolicy {
		return schema.PackagePolicy{ID: "bad", Name: "bad", Namespace: "default", PolicyIDs: []string{"fs"},
			Package: &schema.PackagePolicyPackage{Name: "fleet_server", Version: "1.5.0"},
			Inputs:  map[string]schema.PackagePolicyInput{"fleet_server-fleet-server": {Vars: vars}}}
	}
	cases := []struct {
		name     string
		version  string                // cluster version ("": fleetsim's default)
		existing *schema.PackagePolicy // created first: the bad policy is an update
		bad      schema.PackagePolicy
		want     string // Kibana's whole message
		where    string // in fleetform's terms
	}{{
		name: "required multi var emptied",
		bad:  nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"paths": []any{}}), nil),
		want: `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.paths: ["Paths is required"]`,
	}, {
		name: "required package var without default, not declared",
		bad: func() schema.PackagePolicy {
			p := azurePolicy("bad", map[string]any{"env": "AZURE_CONNECTION"})
			delete(p.Vars, "eventhub")
			return p
		}(),
		want:  `Package policy is invalid: vars.eventhub: ["Event Hub Name is required"]`,
		where: "vars.eventhub (the package's default)",
	}, {
		name: "invalid yaml",
		bad:  nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"processors": "- add_fields: [a"}), nil),
		want: `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.processors: ["Invalid YAML format"]`,
	}, {
		name:  "multi var given a string",
		bad:   nginxPolicy("bad", nginxStream("nginx.error", schema.Vars{"paths": "/srv/error.log"}), nil),
		want:  `Package policy is invalid: inputs.logfile.streams.nginx.error.vars.paths: ["Invalid format for Paths: expected array"]`,
		where: "inputs.nginx-logfile.streams.nginx.error.vars.paths (declared)",
	}, {
		name: "bool",
		bad:  nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"preserve_original_event": "yes"}), nil),
		want: `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.preserve_original_event: ["Boolean values must be either true or false"]`,
	}, {
		name: "integer, input var",
		bad:  fleetServer(schema.Vars{"max_agents": "ten"}),
		want: `Package policy is invalid: inputs.fleet-server.vars.max_agents: ["Invalid integer"]`,
	}, {
		name: "integer in a multi var",
		bad:  fleetServer(schema.Vars{"port": []any{"8220", "x"}}),
		want: `Package policy is invalid: inputs.fleet-server.vars.port: ["Invalid integer"]`,
	}, {
		name: "YAML special characters, two keys",
		bad:  nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"tags": []any{"*nginx"}, "ignore_older": "&72h"}), nil),
		want: "Package policy is invalid: inputs.logfile.streams.nginx.access.vars.tags: " +
			`["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]` + "\n" +
			"inputs.logfile.streams.nginx.access.vars.ignore_older: " +
			`["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`,
	}, {
		// A stream the package leaves off (httpjson) is validated once it
		// is enabled, its vars in the package's order.
		name: "stream the package leaves off, enabled",
		bad: nginxPolicy("bad", map[string]schema.PackagePolicyInput{"nginx-httpjson": {Enabled: &tr, Streams: map[string]schema.PackagePolicyStream{
			"nginx.access": {Enabled: &tr, Vars: schema.Vars{"tags": "forwarded", "interval": "*10s"}}}}}, nil),
		want: "Package policy is invalid: inputs.httpjson.streams.nginx.access.vars.interval: " +
			`["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]` + "\n" +
			`inputs.httpjson.streams.nginx.access.vars.tags: ["Invalid format for Tags: expected array"]`,
	}, {
		name: "update",
		existing: func() *schema.PackagePolicy {
			p := nginxPolicy("bad", accessPaths("/srv/access.log"), nil)
			return &p
		}(),
		bad:   nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"paths": []any{"/srv/access.log", " "}}), nil),
		want:  `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.paths: ["Paths is required"]`,
		where: "inputs.nginx-logfile.streams.nginx.access.vars.paths (declared)",
	}, {
		// required_vars (elastic/kibana#207130): no group met — Kibana
		// lists every group with the conditions it does not meet.
		name: "required_vars: no group met",
		bad:  securityPolicy("bad", schema.Vars{"url": "https://es.example:9200"}),
		want: "Package policy is invalid: " + alertRequired + `api_auth: [{"name":"api_key","invalid":true}]` + "\n" +
			alertRequired + `basic_auth: [{"name":"auth_type","invalid":true},{"name":"username","invalid":true},{"name":"password","invalid":true}]` + "\n" +
			alertRequired + `bearer_auth: [{"name":"auth_type","invalid":true},{"name":"bearer_token","invalid":true}]`,
		where: "inputs.elastic_security-cel.streams.elastic_security.alert: required_vars group api_auth not met (api_key)",
	}, {
		name:    "required_vars on 9.0, a condition's value",
		version: "9.0.3",
		bad:     securityPolicy("bad", schema.Vars{"url": "https://es.example:9200", "auth_type": "basic_auth", "username": "reader"}),
		want: "Package policy is invalid: " + alertRequired + `api_auth: [{"name":"auth_type","invalid":true},{"name":"api_key","invalid":true}]` + "\n" +
			alertRequired + `basic_auth: [{"name":"password","invalid":true}]` + "\n" +
			alertRequired + `bearer_auth: [{"name":"auth_type","invalid":true},{"name":"bearer_token","invalid":true}]`,
	}, {
		// The stream's vars come first, then its required_vars.
		name: "required_vars after the stream's vars",
		bad:  securityPolicy("bad", schema.Vars{"url": "es.example", "auth_type": "bearer_auth"}),
		want: "Package policy is invalid: inputs.cel.streams.elastic_security.alert.vars.url: " + `["Invalid URL format"]` + "\n" +
			alertRequired + `api_auth: [{"name":"auth_type","invalid":true},{"name":"api_key","invalid":true}]` + "\n" +
			alertRequired + `basic_auth: [{"name":"auth_type","invalid":true},{"name":"username","invalid":true},{"name":"password","invalid":true}]` + "\n" +
			alertRequired + `bearer_auth: [{"name":"bearer_token","invalid":true}]`,
	}, {
		// Before 8.18 Kibana joins a key's errors with "," (inferred,
		// docs/fleetsim-inferred.md item 56).
		name:    "8.17: errors joined",
		version: "8.17.0",
		bad:     nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"tags": []any{"*nginx", ""}}), nil),
		want:    `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.tags: Tags is required,Strings starting with special YAML characters like * or & need to be enclosed in double quotes.`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on", Version: tc.version})
			h.secrets["env:AZURE_STORAGE_KEY"] = "storage-key-1"
			h.secrets["env:AZURE_CONNECTION"] = "connection-1"
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}, {ID: "fs", Name: "FS", Namespace: "default"}}}
			if tc.existing != nil {
				doc.PackagePolicies = []schema.PackagePolicy{*tc.existing}
				h.apply(doc)
			}
			doc.AgentPolicies = append(doc.AgentPolicies, schema.AgentPolicy{ID: "db", Name: "DB", Namespace: "default"})
			good := nginxPolicy("good", accessPaths("/srv/good.log"), nil)
			doc.PackagePolicies = []schema.PackagePolicy{tc.bad, good}

			p := h.plan(doc)
			ch := changeOf(p, KindIntegrationPolicy, "bad")
			if ch == nil || ch.Action != plan.Blocked {
				t.Fatalf("bad policy not blocked:\n%s", renderText(p))
			}
			got := kibanaMessage(ch.Reason)
			if got != tc.want {
				t.Errorf("plan quotes Kibana's 400 as\n%s\nwant\n%s\n(reason %q)", got, tc.want, ch.Reason)
			}
			if tc.where != "" && !strings.Contains(ch.Reason, tc.where) {
				t.Errorf("reason lacks %q:\n%s", tc.where, ch.Reason)
			}
			if c := changeOf(p, KindIntegrationPolicy, "good"); c == nil || c.Action != plan.Create {
				t.Errorf("the valid policy is not a create:\n%s", renderText(p))
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
			if creates := slices.DeleteFunc(h.writes(), func(w string) bool { return w != "POST /api/fleet/package_policies" }); len(creates) != 1 {
				t.Errorf("apply sent %d integration policy creates, want 1 (the valid one)", len(creates))
			}
			for _, o := range res.Outcomes {
				want := StatusApplied
				if o.Change.Kind == KindIntegrationPolicy && o.Change.ID == "bad" {
					want = StatusBlocked
				}
				if o.Status != want {
					t.Errorf("%s %s: %s (%v), want %s", o.Change.Kind, o.Change.ID, o.Status, o.Err, want)
				}
			}
			// plan == apply: the body apply would send, now that the agent
			// policies exist, gets exactly that 400.
			err = sendAsApplyWould(t, h, tc.bad)
			var ae *kibana.APIError
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Message != tc.want {
				t.Errorf("fleetsim answers %v, the plan said 400 %s", err, tc.want)
			}
		})
	}
}

// alertRequired is the key prefix of elastic_security's alert stream's
// required_vars groups.
const alertRequired = "inputs.cel.streams.elastic_security.alert.required_vars."

// securityPolicy is an elastic_security 0.4.0 policy (fleetsim's manifest:
// the alert stream's authentication in required_vars groups) on web.
func securityPolicy(id string, vars schema.Vars) schema.PackagePolicy {
	return schema.PackagePolicy{ID: id, Name: id, Namespace: "default", PolicyIDs: []string{"web"},
		Package: &schema.PackagePolicyPackage{Name: "elastic_security", Version: "0.4.0"},
		Inputs: map[string]schema.PackagePolicyInput{"elastic_security-cel": {Streams: map[string]schema.PackagePolicyStream{
			"elastic_security.alert": {Vars: vars}}}}}
}

// sendAsApplyWould sends p's create body — or, when p exists, its update
// body — the way runIntegrationPolicy builds it, secret references
// resolved from h.secrets (or read), and returns Kibana's error.
func sendAsApplyWould(t *testing.T, h *simHarness, p schema.PackagePolicy) error {
	t.Helper()
	in := ipBodyInput{want: &p, fields: integrationPolicyFields(p), version: p.Package.Version}
	have, err := h.kb.GetIntegrationPolicy(context.Background(), p.ID)
	if err == nil {
		in.have = &have
	}
	var body map[string]any
	if in.have == nil {
		body = integrationPolicyCreateBody(in)
	} else if body, err = integrationPolicyUpdateBody(in); err != nil {
		t.Fatal(err)
	}
	for _, sv := range integrationPolicySecrets(p) {
		v, ok := h.secrets[describeRef(sv.Ref)]
		if !ok {
			sec, err := kibana.ResolveSecret(context.Background(), sv.Ref)
			if err != nil {
				t.Fatal(err)
			}
			v = sec.Reveal()
		}
		sv.varsAt(body, true)[sv.Name] = v
	}
	if in.have == nil {
		_, err = h.kb.CreateIntegrationPolicy(context.Background(), body)
	} else {
		_, err = h.kb.UpdateIntegrationPolicy(context.Background(), p.ID, body)
	}
	return err
}

// A variable given as {env:} or {file:} that the package does not mark
// secret: true is a plan warning: Kibana keeps its value in clear text in
// the policy. The warning names the policy and the var, never the value.
func TestSim_IntegrationPolicy_ReferenceToNonSecretVarWarns(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	h.secrets["env:SPLUNK_USER"] = "splunk-reader-7"
	f := false
	doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}},
		PackagePolicies: []schema.PackagePolicy{nginxPolicy("n", map[string]schema.PackagePolicyInput{
			"nginx-logfile":  {Streams: map[string]schema.PackagePolicyStream{"nginx.access": {Vars: schema.Vars{"paths": []any{"/srv/a.log"}}}}},
			"nginx-httpjson": {Enabled: &f, Vars: schema.Vars{"username": map[string]any{"env": "SPLUNK_USER"}}},
		}, nil)}}
	p := h.plan(doc)
	if ch := changeOf(p, KindIntegrationPolicy, "n"); ch == nil || ch.Action != plan.Create {
		t.Fatalf("plan:\n%s", renderText(p))
	}
	want := "integration policy n: inputs.nginx-httpjson.vars.username is given as a secret reference (env:), but package nginx 2.1.0 does not mark the variable secret: true, so Kibana stores its value in clear text"
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("warnings %q lack %q", p.Warnings, want)
	}
	if text := allRenderings(t, p); strings.Contains(text, "splunk-reader-7") {
		t.Errorf("a plan rendering shows the value:\n%s", text)
	}
	// A secret: true var given as a reference does not warn.
	h2 := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on"})
	h2.secrets["env:AZURE_STORAGE_KEY"], h2.secrets["env:AZURE_CONNECTION"] = "k", "c"
	p2 := h2.plan(&schema.Document{AgentPolicies: doc.AgentPolicies,
		PackagePolicies: []schema.PackagePolicy{azurePolicy("az", map[string]any{"env": "AZURE_CONNECTION"})}})
	if len(p2.Warnings) != 0 {
		t.Errorf("warnings for secret: true vars: %q", p2.Warnings)
	}
}

// kibanaValueErrors on definitions fleetsim's manifests do not have:
// select, duration and url variables, a required var the UI hides
// (show_user: false — Kibana checks it all the same), a secret var given
// as a reference (present; its value is read at apply), versions, input
// packages' data_stream.dataset (not modelled), a disabled input.
func TestKibanaValueErrors_Definitions(t *testing.T) {
	f := false
	info := kibana.PackageInfo{Name: "svc", Version: "1.0.0", Type: "integration",
		Vars: []kibana.PackageVar{
			{Name: "api_key", Type: "password", Title: "API key", Required: true, Secret: true},
			{Name: "hidden", Type: "text", Required: true, ShowUser: false},
		},
		PolicyTemplates: []kibana.PackagePolicyTemplate{{Name: "svc", Inputs: []kibana.PackageInput{{Type: "cel", Vars: []kibana.PackageVar{
			{Name: "mode", Type: "select", Title: "Mode", Default: "fast", Options: []kibana.PackageOption{{Value: "fast"}, {Value: "slow"}}},
			{Name: "interval", Type: "duration", Title: "Interval", Default: "1m", MinDuration: "10s", MaxDuration: "1h"},
			{Name: "endpoint", Type: "url", Title: "Endpoint", Default: "https://svc.example", URLAllowedSchemes: []string{"https"}},
		}}}}},
		DataStreams: []kibana.PackageDataStream{{Type: "logs", Dataset: "svc.events", Path: "events", Streams: []kibana.PackageStream{
			{Input: "cel", Enabled: &f, Vars: []kibana.PackageVar{{Name: "query", Type: "text", Required: true}}}}}},
	}
	d := packageDefaults(info)
	for _, tc := range []struct {
		name    string
		version string
		inputs  map[string]any
		vars    map[string]any
		want    []string
	}{
		{"defaults; hidden required var undefined", "", nil, map[string]any{"api_key": refValue{}},
			[]string{`vars.hidden: ["hidden is required"]`}},
		{"secret var not given", "", nil, map[string]any{"hidden": "x"},
			[]string{`vars.api_key: ["API key is required"]`}},
		{"select, duration, url", "", map[string]any{"svc-cel": map[string]any{"vars": map[string]any{"mode": "medium", "interval": "5s", "endpoint": "http://svc.example"}}},
			map[string]any{"api_key": refValue{}, "hidden": "x"},
			[]string{`inputs.cel.vars.mode: ["Invalid value for select type"]`,
				`inputs.cel.vars.interval: ["Duration is below the minimum allowed value of 10s"]`,
				`inputs.cel.vars.endpoint: ["URL scheme \"http\" is not allowed. Allowed schemes: https"]`}},
		{"9.1: no duration or url check", "9.1.3", map[string]any{"svc-cel": map[string]any{"vars": map[string]any{"interval": "soon", "endpoint": "nope"}}},
			map[string]any{"api_key": refValue{}, "hidden": "x"}, nil},
		{"disabled input: its vars unchecked", "", map[string]any{"svc-cel": map[string]any{"enabled": false, "vars": map[string]any{"mode": "medium"}}},
			map[string]any{"api_key": refValue{}, "hidden": "x"}, nil},
		{"stream enabled: its required var", "", map[string]any{"svc-cel": map[string]any{"streams": map[string]any{"svc.events": map[string]any{"enabled": true}}}},
			map[string]any{"api_key": refValue{}, "hidden": "x"}, []string{`inputs.cel.streams.svc.events.vars.query: ["query is required"]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valueRulesFor(tc.version)
			var got []string
			for _, e := range kibanaValueErrors(&d, tc.inputs, tc.vars, nil, nil, r) {
				got = append(got, r.errLine(e, e.errs))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
	str := func(s string) *string { return &s }
	input := kibana.PackageInfo{Name: "sql_input", Version: "0.6.0", Type: "input",
		PolicyTemplates: []kibana.PackagePolicyTemplate{{Name: "sql_query", Type: "metrics", Input: str("sql/metrics"),
			Vars: []kibana.PackageVar{{Name: "hosts", Type: "text", Multi: true, Required: true, Default: []any{"localhost"}}}}}}
	di := packageDefaults(input)
	if got := kibanaValueErrors(&di, nil, nil, nil, nil, valueRulesFor("")); len(got) != 0 {
		t.Errorf("input package defaults: %+v", got)
	}
}
