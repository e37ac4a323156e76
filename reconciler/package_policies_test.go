package reconciler

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// observedNginx is an integration policy as Kibana's simplified answer
// holds it (simplified_package_policy_helper.ts, formatInputs/formatVars):
// every input, stream and var of the package, secret vars as references.
func observedNginx(t *testing.T) kibana.IntegrationPolicy {
	t.Helper()
	const answer = `{
	  "id": "nginx-web", "name": "nginx web", "namespace": "default", "description": "web logs",
	  "enabled": true, "policy_ids": ["web", "edge"], "output_id": null, "revision": 3,
	  "package": {"name": "nginx", "version": "2.1.0", "title": "Nginx"},
	  "inputs": {
	    "nginx-logfile": {"enabled": true, "streams": {
	      "nginx.access": {"enabled": true, "vars": {"paths": ["/var/log/nginx/access.log*"], "ignore_older": "72h", "tags": ["nginx-access"]}},
	      "nginx.error": {"enabled": false, "vars": {"paths": ["/var/log/nginx/error.log*"]}}}},
	    "nginx-httpjson": {"enabled": false, "vars": {"url": "https://splunk:8089", "password": {"isSecretRef": true, "id": "sec-1"}},
	      "streams": {"nginx.access": {"enabled": false, "vars": {"interval": "10s"}}}},
	    "nginx-nginx/metrics": {"enabled": true, "vars": {"hosts": ["http://127.0.0.1:80"]},
	      "streams": {"nginx.stubstatus": {"enabled": true, "vars": {"period": "10s"}}}}
	  },
	  "secret_references": [{"id": "sec-1"}]
	}`
	var p kibana.IntegrationPolicy
	if err := json.Unmarshal([]byte(answer), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func declaredNginx() schema.PackagePolicy {
	f := false
	desc := "web logs"
	return schema.PackagePolicy{
		ID: "nginx-web", Name: "nginx web", Description: &desc, Namespace: "default",
		Package:   &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"},
		PolicyIDs: []string{"edge", "web"}, // another order than Kibana's: compared as a set
		Inputs: map[string]schema.PackagePolicyInput{
			"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
				"nginx.access": {Vars: schema.Vars{"paths": []any{"/var/log/nginx/access.log*"}}},
				"nginx.error":  {Enabled: &f},
			}},
			"nginx-httpjson": {Enabled: &f, Vars: schema.Vars{"password": map[string]any{"env": "SPLUNK_PASSWORD"}}},
		},
	}
}

func TestIntegrationPolicyDiff_ComparesOnlyDeclaredKeys(t *testing.T) {
	have := observedNginx(t)
	tests := []struct {
		name string
		edit func(*schema.PackagePolicy)
		want []plan.FieldDiff
	}{
		{"matches: undeclared inputs, streams and vars are not managed", func(*schema.PackagePolicy) {}, nil},
		{"a declared stream var", func(p *schema.PackagePolicy) {
			p.Inputs["nginx-logfile"].Streams["nginx.access"].Vars["paths"] = []any{"/srv/access.log"}
		}, []plan.FieldDiff{{Path: "inputs.nginx-logfile.streams.nginx.access.vars.paths",
			Before: []any{"/var/log/nginx/access.log*"}, After: []any{"/srv/access.log"}}}},
		{"enabled of an input", func(p *schema.PackagePolicy) {
			tr := true
			in := p.Inputs["nginx-httpjson"]
			in.Enabled = &tr
			p.Inputs["nginx-httpjson"] = in
		}, []plan.FieldDiff{{Path: "inputs.nginx-httpjson.enabled", Before: false, After: true}}},
		{"output_id", func(p *schema.PackagePolicy) {
			o := "remote-west"
			p.OutputID = schema.Some(o)
		}, []plan.FieldDiff{{Path: "output_id", Before: nil, After: "remote-west"}}},
		{"policy_ids as a set", func(p *schema.PackagePolicy) { p.PolicyIDs = []string{"web"} },
			[]plan.FieldDiff{{Path: "policy_ids", Before: []any{"edge", "web"}, After: []any{"web"}}}},
		{"package version", func(p *schema.PackagePolicy) { p.Package.Version = "2.0.0" },
			[]plan.FieldDiff{{Path: "package.version", Before: "2.1.0", After: "2.0.0"}}},
		{"supports_agentless: false matches Kibana's answer without it", func(p *schema.PackagePolicy) {
			f := false
			p.SupportsAgentless = &f
		}, nil},
		{"another input's stream var, declared as observed", func(p *schema.PackagePolicy) {
			p.Inputs["nginx-nginx/metrics"] = schema.PackagePolicyInput{Streams: map[string]schema.PackagePolicyStream{
				"nginx.stubstatus": {Vars: schema.Vars{"period": "10s"}}}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := declaredNginx()
			tt.edit(&p)
			got, err := diffIntegrationPolicy(integrationPolicyFields(p), have)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diff =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestIntegrationPolicySecrets_PathsAndObservedReferences(t *testing.T) {
	p := declaredNginx()
	secrets := integrationPolicySecrets(p)
	if len(secrets) != 1 || secrets[0].Path() != "inputs.nginx-httpjson.vars.password" || secrets[0].Ref.Env != "SPLUNK_PASSWORD" {
		t.Fatalf("secrets = %+v", secrets)
	}
	if _, has := integrationPolicyFields(p)["inputs"].(map[string]any)["nginx-httpjson"].(map[string]any)["vars"]; has {
		t.Error("a secret reference must not be among the compared fields")
	}
	obs, err := observedVarSecret(observedNginx(t), secrets[0].ipVar)
	if err != nil || obs.ID != "sec-1" {
		t.Errorf("observed secret id = %q, want sec-1", obs.ID)
	}
	plain := observedNginx(t)
	if err := plain.Decode(); err != nil {
		t.Fatal(err)
	}
	plain.Inputs["nginx-httpjson"].Vars["password"] = "clear" // secret storage off
	if got, err := observedVarSecret(plain, secrets[0].ipVar); err != nil || got.Plain.Reveal() != "clear" || got.ID != "" {
		t.Errorf("clear-text secret var read as %+v", got)
	}
}

func TestIntegrationPolicyUpdateBody_CarriesEveryInputAndKeepsStoredSecrets(t *testing.T) {
	have := observedNginx(t)
	p := declaredNginx()
	p.Inputs["nginx-logfile"].Streams["nginx.access"].Vars["paths"] = []any{"/srv/access.log"}
	kept, err := observedVarSecret(have, ipVar{Input: "nginx-httpjson", Name: "password"})
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]observedSecret{"inputs.nginx-httpjson.vars.password": kept}
	body, err := integrationPolicyUpdateBody(ipBodyInput{want: &p, fields: integrationPolicyFields(p), have: &have, version: "2.1.0", keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path ...string) any {
		var v any = body
		for _, k := range path {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		return v
	}
	checks := []struct {
		path []string
		want any
	}{
		{[]string{"package", "name"}, "nginx"}, // "Package is required" with simplified inputs
		{[]string{"package", "version"}, "2.1.0"},
		{[]string{"inputs", "nginx-logfile", "streams", "nginx.access", "vars", "paths"}, []any{"/srv/access.log"}},
		// Undeclared values go back as observed, or the PUT would reset them to the manifest defaults.
		{[]string{"inputs", "nginx-logfile", "streams", "nginx.access", "vars", "tags"}, []any{"nginx-access"}},
		{[]string{"inputs", "nginx-nginx/metrics", "streams", "nginx.stubstatus", "vars", "period"}, "10s"},
		{[]string{"inputs", "nginx-httpjson", "vars", "url"}, "https://splunk:8089"},
		// The stored secret goes back as its reference.
		{[]string{"inputs", "nginx-httpjson", "vars", "password"}, map[string]any{"isSecretRef": true, "id": "sec-1"}},
		{[]string{"policy_ids"}, []any{"edge", "web"}},
		{[]string{"name"}, "nginx web"},
	}
	for _, c := range checks {
		if got := get(c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	if _, has := body["id"]; has {
		t.Error("a PUT body carries no id")
	}

	// A new value replaces the reference.
	body, _ = integrationPolicyUpdateBody(ipBodyInput{want: &p, fields: integrationPolicyFields(p), have: &have, version: "2.1.0",
		values: map[string]secret.Value{"inputs.nginx-httpjson.vars.password": secret.New("s3cret")}})
	if got := body["inputs"].(map[string]any)["nginx-httpjson"].(map[string]any)["vars"].(map[string]any)["password"]; got != "s3cret" {
		t.Errorf("password = %#v, want the new value", got)
	}

	// Another package version: only what is declared (the new version's inputs may differ).
	body, _ = integrationPolicyUpdateBody(ipBodyInput{want: &p, fields: integrationPolicyFields(p), have: &have, version: "2.0.0", keep: keep})
	if _, has := body["inputs"].(map[string]any)["nginx-nginx/metrics"]; has {
		t.Error("an upgrade must not send undeclared inputs of the old version")
	}
	if got := body["inputs"].(map[string]any)["nginx-httpjson"].(map[string]any)["vars"].(map[string]any)["password"]; !reflect.DeepEqual(got, map[string]any{"isSecretRef": true, "id": "sec-1"}) {
		t.Errorf("password on upgrade = %#v, want the stored reference", got)
	}
}

func TestIntegrationPolicyCreateBody(t *testing.T) {
	p := declaredNginx()
	o := "remote-west"
	p.OutputID = schema.Some(o)
	body := integrationPolicyCreateBody(ipBodyInput{want: &p, fields: integrationPolicyFields(p), version: "2.1.0",
		values: map[string]secret.Value{"inputs.nginx-httpjson.vars.password": secret.New("s3cret")}})
	want := map[string]any{
		"id": "nginx-web", "name": "nginx web", "description": "web logs", "namespace": "default",
		"package":    map[string]any{"name": "nginx", "version": "2.1.0"},
		"policy_ids": []any{"edge", "web"}, "output_id": "remote-west",
		"inputs": map[string]any{
			"nginx-logfile": map[string]any{"streams": map[string]any{
				"nginx.access": map[string]any{"vars": map[string]any{"paths": []any{"/var/log/nginx/access.log*"}}},
				"nginx.error":  map[string]any{"enabled": false},
			}},
			"nginx-httpjson": map[string]any{"enabled": false, "vars": map[string]any{"password": "s3cret"}},
		},
	}
	if !reflect.DeepEqual(body, want) {
		a, _ := json.Marshal(body)
		b, _ := json.Marshal(want)
		t.Errorf("create body\n%s\nwant\n%s", a, b)
	}
}
