package reconciler

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// required_vars by version (package_policies_values_groups.go): a stream's
// from 8.18 (elastic/kibana#207130), so 8.17 creates what 8.18 refuses;
// a disabled stream's are not checked.
func TestSim_IntegrationPolicy_RequiredVarsByVersion(t *testing.T) {
	f := false
	noCreds := securityPolicy("sec", schema.Vars{"url": "https://es.example:9200"})
	off := noCreds
	off.Inputs = map[string]schema.PackagePolicyInput{"elastic_security-cel": {Streams: map[string]schema.PackagePolicyStream{
		"elastic_security.alert": {Enabled: &f, Vars: schema.Vars{"url": "https://es.example:9200"}}}}}
	for _, tc := range []struct {
		name, version string
		p             schema.PackagePolicy
		want          plan.Action
	}{
		{"8.17: no required_vars", "8.17.4", noCreds, plan.Create},
		{"8.18: required_vars", "8.18.0", noCreds, plan.Blocked},
		{"8.19: required_vars", "8.19.1", noCreds, plan.Blocked},
		{"disabled stream", "", off, plan.Create},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on", Version: tc.version})
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}},
				PackagePolicies: []schema.PackagePolicy{tc.p}}
			p := h.plan(doc)
			ch := changeOf(p, KindIntegrationPolicy, "sec")
			if ch == nil || ch.Action != tc.want {
				t.Fatalf("plan, want %s:\n%s", tc.want, renderText(p))
			}
			if tc.want == plan.Create {
				if c := h.apply(doc).Counts(); c[StatusApplied] != 2 {
					t.Errorf("apply: %v", c)
				}
			}
		})
	}
}

// The package info decodes required_vars in Object.entries order — an
// array-index key first — and var_groups; kibanaValueErrors then skips a
// var a var_group names (fleetform sends no var_group_selections, so Kibana
// 9.4+ does not validate it), checks input-level required_vars from 9.1
// (elastic/kibana#211863, not on 8.19), and writes a group's message
// `${value}`-joined before 8.18.
func TestKibanaValueErrors_RequiredVarsAndVarGroups(t *testing.T) {
	const raw = `{"name":"svc","version":"1.0.0","type":"integration",
	  "vars":[{"name":"token","type":"text","title":"Token"},{"name":"mode","type":"select","options":[{"value":"a"}]}],
	  "var_groups":[{"name":"auth","required":true,"options":[{"name":"tok","vars":["token"]},{"name":"none","vars":[]}]}],
	  "policy_templates":[{"name":"svc","inputs":[{"type":"cel","vars":[{"name":"user","type":"text"},{"name":"key","type":"password"}],
	    "required_vars":{"user_key":[{"name":"user"},{"name":"key"}],"7":[{"name":"key","value":"k"}]}}]}],
	  "data_streams":[{"type":"logs","dataset":"svc.events","path":"events","streams":[{"input":"cel",
	    "vars":[{"name":"port","type":"integer"},{"name":"host","type":"text","required":true}],
	    "var_groups":[{"name":"net","options":[{"name":"p","vars":["port"]}]}]}]}]}`
	var info kibana.PackageInfo
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		t.Fatal(err)
	}
	if got := []string{info.PolicyTemplates[0].Inputs[0].RequiredVars[0].Name, info.PolicyTemplates[0].Inputs[0].RequiredVars[1].Name}; !slices.Equal(got, []string{"7", "user_key"}) {
		t.Fatalf("required_vars order %q, want Object.entries order", got)
	}
	d := packageDefaults(info)
	inputs := map[string]any{"svc-cel": map[string]any{"vars": map[string]any{"user": "u"},
		"streams": map[string]any{"svc.events": map[string]any{"vars": map[string]any{"port": "eighty", "host": "*h"}}}}}
	vars := map[string]any{"token": "*t", "mode": "b"}
	const inputGroups = `inputs.cel.required_vars.7: [{"name":"key","invalid":true}]`
	for _, tc := range []struct {
		version string
		want    []string
	}{
		{"9.4.0", []string{inputGroups, `inputs.cel.required_vars.user_key: [{"name":"key","invalid":true}]`,
			`inputs.cel.streams.svc.events.vars.host: ["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`,
			`vars.mode: ["Invalid value for select type"]`}},
		{"9.3.0", []string{inputGroups, `inputs.cel.required_vars.user_key: [{"name":"key","invalid":true}]`,
			`inputs.cel.streams.svc.events.vars.port: ["Invalid integer"]`,
			`inputs.cel.streams.svc.events.vars.host: ["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`,
			`vars.token: ["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`,
			`vars.mode: ["Invalid value for select type"]`}},
		{"8.19.2", []string{`inputs.cel.streams.svc.events.vars.port: ["Invalid integer"]`,
			`inputs.cel.streams.svc.events.vars.host: ["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`,
			`vars.token: ["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`,
			`vars.mode: ["Invalid value for select type"]`}},
	} {
		r := valueRulesFor(tc.version)
		var got []string
		for _, e := range kibanaValueErrors(&d, inputs, vars, nil, nil, r) {
			got = append(got, r.errLine(e, e.errs))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.version, got, tc.want)
		}
	}
	if got := valueRulesFor("8.17.0").requiredVarsMessage([]string{"a", "b"}); got != "[object Object],[object Object]" {
		t.Errorf("before 8.18: %s", got)
	}
	// A group met: no error; a reference meets a condition's value.
	met := map[string]any{"svc-cel": map[string]any{"vars": map[string]any{"key": refValue{}}}}
	for _, e := range kibanaValueErrors(&d, met, nil, nil, nil, valueRulesFor("")) {
		if e.group != "" {
			t.Errorf("a met group reported: %+v", e)
		}
	}
}
