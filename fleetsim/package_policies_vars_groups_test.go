package fleetsim

import (
	"slices"
	"testing"
)

// validatePackageRequiredVars (FLEET/common/services/validate_package_policy.ts,
// elastic/kibana#207130): one group met is enough; otherwise every group
// with its unmet conditions, array-index names first (Object.entries).
func TestRequiredVarsErrors(t *testing.T) {
	groups := []requiredVarGroup{
		{Name: "api", Vars: []requiredVar{{Name: "type", Value: "api"}, {Name: "key"}}},
		{Name: "0", Vars: []requiredVar{{Name: "user"}, {Name: "pass"}}},
	}
	rec := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = map[string]any{"value": kv[i+1]}
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		rec     map[string]any
		enabled bool
		want    []unmetGroup
	}{
		{"api met", rec("type", "api", "key", "k"), true, nil},
		{"user and pass met", rec("user", "u", "pass", "p", "type", "other"), true, nil},
		{"none met", rec("type", "other", "key", "k", "user", "u"), true, []unmetGroup{{"0", []string{"pass"}}, {"api", []string{"type"}}}},
		// Truthiness: "" and false do not count; === compares the value.
		{"falsy values", rec("type", "api", "key", "", "user", false, "pass", "p"), true, []unmetGroup{{"0", []string{"user"}}, {"api", []string{"key"}}}},
		{"off", rec(), false, nil},
		{"no vars", nil, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := requiredVarsErrors(tc.rec, tc.enabled, groups)
			if !slices.EqualFunc(got, tc.want, func(a, b unmetGroup) bool { return a.name == b.name && slices.Equal(a.unmet, b.unmet) }) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	r := varRulesFor("9.3.0")
	if got := r.requiredVarsLines("inputs.cel.required_vars", []unmetGroup{{"api", []string{"type", "key"}}}); !slices.Equal(got,
		[]string{`inputs.cel.required_vars.api: [{"name":"type","invalid":true},{"name":"key","invalid":true}]`}) {
		t.Errorf("lines %q", got)
	}
}

// var_groups (elastic/kibana#249449): a var an option names is validated
// only when that option is selected, and is required when its group is.
func TestVarGroups_ShouldValidateAndRequired(t *testing.T) {
	groups := []varGroup{{Name: "auth", Required: true, Options: []varGroupOption{{Name: "key", Vars: []string{"api_key"}}, {Name: "basic", Vars: []string{"user", "pass"}}}},
		{Name: "net", Options: []varGroupOption{{Name: "proxy", Vars: []string{"proxy_url"}}}}}
	for _, tc := range []struct {
		name          string
		v             string
		sel           map[string]string
		validate, req bool
	}{
		{"not controlled", "host", nil, true, false},
		{"controlled, nothing selected", "api_key", nil, false, false},
		{"selected option", "api_key", map[string]string{"auth": "key"}, true, true},
		{"other option", "user", map[string]string{"auth": "key"}, false, false},
		{"optional group", "proxy_url", map[string]string{"net": "proxy"}, true, false},
		{"unknown option", "api_key", map[string]string{"auth": "oauth"}, false, false},
	} {
		if got := shouldValidateVar(tc.v, groups, tc.sel); got != tc.validate {
			t.Errorf("%s: shouldValidateVar = %v", tc.name, got)
		}
		if got := isVarRequiredByVarGroup(tc.v, groups, tc.sel); got != tc.req {
			t.Errorf("%s: isVarRequiredByVarGroup = %v", tc.name, got)
		}
	}
	// Through the package vars: from 9.4 a controlled var without a
	// selection is not checked; with one, its group's required applies.
	m := &pkgManifest{Name: "svc", Type: "integration", VarGroups: groups,
		Vars: []varDef{{Name: "api_key", Type: "text", Title: "API key"}, {Name: "host", Type: "text", Title: "Host"}}}
	vars := map[string]any{"api_key": map[string]any{"value": "*k"}, "host": map[string]any{"value": "*h"}}
	quote := `["Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`
	if got := validatePackagePolicyInputs("9.4.0", m, "p", "", nil, vars); !slices.Equal(got, []string{"vars.host: " + quote}) {
		t.Errorf("9.4: %q", got)
	}
	if got := validatePackagePolicyInputs("9.3.0", m, "p", "", nil, vars); len(got) != 2 {
		t.Errorf("9.3 checks every var: %q", got)
	}
	r := varRulesFor("9.4.0")
	if got := validateVarsRecord(r, "vars", map[string]any{"api_key": map[string]any{"type": "text"}}, m.Vars, groups, map[string]string{"auth": "key"}); !slices.Equal(got, []string{`vars.api_key: ["API key is required"]`}) {
		t.Errorf("required by its group: %q", got)
	}
}

// An input's required_vars are checked from 9.1 (elastic/kibana#211863,
// backport:skip: not on 8.19), after the input's vars and before its
// streams; a stream's from 8.18 (#207130), for an enabled stream.
func TestValidatePackagePolicyInputs_RequiredVarsByVersion(t *testing.T) {
	m := &pkgManifest{Name: "svc", Type: "integration",
		PolicyTemplates: []policyTemplate{{Name: "svc", Inputs: []inputDef{{Type: "cel",
			Vars:         []varDef{{Name: "user", Type: "text"}, {Name: "key", Type: "password"}},
			RequiredVars: []requiredVarGroup{{Name: "creds", Vars: []requiredVar{{Name: "user"}, {Name: "key"}}}}}}}},
		DataStreams: []dataStreamDef{{Type: "logs", Dataset: "svc.events", Streams: []streamDef{{Input: "cel",
			Vars:         []varDef{{Name: "token", Type: "password"}},
			RequiredVars: []requiredVarGroup{{Name: "tok", Vars: []requiredVar{{Name: "token"}}}}}}}}}
	in := defaultInputs(m)
	for _, tc := range []struct {
		version string
		want    []string
	}{
		{"9.1.0", []string{`inputs.cel.required_vars.creds: [{"name":"user","invalid":true},{"name":"key","invalid":true}]`,
			`inputs.cel.streams.svc.events.required_vars.tok: [{"name":"token","invalid":true}]`}},
		{"8.19.3", []string{`inputs.cel.streams.svc.events.required_vars.tok: [{"name":"token","invalid":true}]`}},
		{"8.17.0", nil},
	} {
		if got := validatePackagePolicyInputs(tc.version, m, "p", "", in, nil); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.version, got, tc.want)
		}
	}
}
