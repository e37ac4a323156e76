package fleetsim

import (
	"slices"
	"testing"
)

// validatePackagePolicyConfig (FLEET/common/services/validate_package_policy.ts
// in elastic/kibana) value by value, at the versions its rules changed
// (package_policies_vars.go).
func TestValidateVar_KibanaRules(t *testing.T) {
	const latest, v817, v87 = "9.3.0", "8.17.0", "8.7.0"
	text := varDef{Name: "host", Type: "text", Title: "Host"}
	hosts := varDef{Name: "hosts", Type: "text", Title: "Hosts", Multi: true, Required: true}
	ports := varDef{Name: "ports", Type: "integer", Title: "Ports", Multi: true}
	count := varDef{Name: "count", Type: "integer", Title: "Count"}
	flag := varDef{Name: "flag", Type: "bool", Title: "Flag"}
	yml := varDef{Name: "ssl", Type: "yaml", Title: "SSL", Required: true}
	mode := varDef{Name: "mode", Type: "select", Title: "Mode", Options: []any{"fast", "slow"}}
	period := varDef{Name: "period", Type: "duration", Title: "Period", MinDuration: "10s", MaxDuration: "1h"}
	endpoint := varDef{Name: "endpoint", Type: "url", Title: "Endpoint", URLAllowedSchemes: []string{"https"}}
	anyURL := varDef{Name: "u", Type: "url"}
	secret := varDef{Name: "token", Type: "password", Title: "Token", Secret: true, Required: true}
	v := func(x any) varValue { return varValue{v: x, present: true} }
	for _, tc := range []struct {
		name    string
		version string
		def     varDef
		val     varValue
		want    []string
	}{
		// required: `parsedValue === undefined || (yaml && parsedValue === '')`;
		// null is defined.
		{"required undefined", latest, yml, varValue{}, []string{"SSL is required"}},
		{"required yaml blank", latest, yml, v("  "), []string{"SSL is required"}},
		{"required null is defined", latest, hosts, v(nil), nil},
		{"yaml invalid", latest, yml, v("a: [b"), []string{"Invalid YAML format"}},
		// multi: a truthy non-array, then required arrays, then elements.
		{"multi not an array", latest, hosts, v("a.example"), []string{"Invalid format for Hosts: expected array"}},
		{"multi not an array before 8.8", v87, hosts, v("a.example"), []string{"Invalid format"}},
		{"multi required empty", latest, hosts, v([]any{}), []string{"Hosts is required"}},
		{"multi required blank element", latest, hosts, v([]any{"a", " "}), []string{"Hosts is required"}},
		{"multi special yaml start", latest, hosts, v([]any{"*.example"}), []string{"Strings starting with special YAML characters like * or & need to be enclosed in double quotes."}},
		{"multi integer", latest, ports, v([]any{"80", 443.0, "x"}), []string{"Invalid integer"}},
		// Number(): hex, octal and binary literals are integers; an
		// underscore or "inf" is NaN.
		{"multi integer literals", latest, ports, v([]any{"0x1F", "0o17", "0b11", " 8 ", "1e3"}), nil},
		{"integer underscore", latest, count, v("1_000"), []string{"Invalid integer"}},
		{"integer inf", latest, count, v("inf"), []string{"Invalid integer"}},
		{"integer decimal", latest, count, v(1.5), []string{"Invalid integer"}},
		{"text special", latest, text, v("&anchor"), []string{"Strings starting with special YAML characters like * or & need to be enclosed in double quotes."}},
		{"bool string", latest, flag, v("yes"), []string{"Boolean values must be either true or false"}},
		{"bool false", latest, flag, v(false), nil},
		// select: `parsedValue !== undefined` and not among the options
		// (elastic/kibana#155180, v8.8.0: "" is refused too).
		{"select not an option", latest, mode, v("medium"), []string{"Invalid value for select type"}},
		{"select empty", latest, mode, v(""), []string{"Invalid value for select type"}},
		{"select null", latest, mode, v(nil), []string{"Invalid value for select type"}},
		{"select undefined", latest, mode, varValue{}, nil},
		{"select trimmed", latest, mode, v(" fast "), nil},
		{"select empty before 8.8", v87, mode, v(""), nil},
		// duration (elastic/kibana#231027): parseDuration, min_duration,
		// max_duration; a number is "empty" (typeof !== 'string').
		{"duration ok", latest, period, v("1m30s"), nil},
		{"duration number", latest, period, v(30.0), []string{"Duration cannot be empty"}},
		{"duration format", latest, period, v("soon"), []string{`Invalid duration format. Expected format like "1h30m45s"`}},
		{"duration characters", latest, period, v("1.5s"), []string{"Duration contains invalid characters"}},
		{"duration below", latest, period, v("5s"), []string{"Duration is below the minimum allowed value of 10s"}},
		{"duration above", latest, period, v("2h"), []string{"Duration is above the maximum allowed value of 1h"}},
		{"duration bad min", latest, varDef{Name: "p", Type: "duration", MinDuration: "ten"}, v("1s"), []string{"Invalid min_duration specification"}},
		{"duration before 9.2", "9.1.0", period, v("soon"), nil},
		// url (elastic/kibana#231062): new URL(), then url_allowed_schemes.
		{"url ok", latest, endpoint, v("https://siem.example:8443/api"), nil},
		{"url scheme", latest, endpoint, v("http://siem.example"), []string{`URL scheme "http" is not allowed. Allowed schemes: https`}},
		{"url no scheme", latest, anyURL, v("siem.example/api"), []string{"Invalid URL format"}},
		{"url no host", latest, anyURL, v("https://"), []string{"Invalid URL format"}},
		{"url bad port", latest, anyURL, v("https://siem.example:99999"), []string{"Invalid URL format"}},
		{"url space in host", latest, anyURL, v("https://siem example"), []string{"Invalid URL format"}},
		{"url opaque", latest, anyURL, v("mailto:soc@example.com"), nil},
		{"url empty", latest, anyURL, v(""), nil},
		{"url before 9.2", "9.1.0", anyURL, v("nope"), nil},
		// Secret references: JS truthiness of id and ids.
		{"secret ref ok", latest, secret, v(map[string]any{"isSecretRef": true, "id": "s1"}), nil},
		{"secret ref ids ok", latest, secret, v(map[string]any{"isSecretRef": true, "ids": []any{"s1", "s2"}}), nil},
		{"secret ref empty id with ids", latest, secret, v(map[string]any{"isSecretRef": true, "id": "", "ids": []any{"s1"}}), nil},
		{"secret ref null id with ids", latest, secret, v(map[string]any{"isSecretRef": true, "id": nil, "ids": []any{"s1"}}), nil},
		{"secret ref none", latest, secret, v(map[string]any{"isSecretRef": true}), []string{"Secret reference is invalid, id or ids must be provided"}},
		{"secret ref both", latest, secret, v(map[string]any{"isSecretRef": true, "id": "s1", "ids": []any{}}), []string{"Secret reference is invalid, id or ids cannot both be provided"}},
		{"secret ref id number", latest, secret, v(map[string]any{"isSecretRef": true, "id": 7.0}), []string{"Secret reference is invalid, id must be a string"}},
		{"secret ref ids numbers", latest, secret, v(map[string]any{"isSecretRef": true, "ids": []any{"s1", 2.0}}), []string{"Secret reference is invalid, ids must be an array of strings"}},
		{"older version", v817, hosts, v([]any{}), []string{"Hosts is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := validateVar(tc.val, tc.def, varRulesFor(tc.version))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// validatePackagePolicyOrThrow writes each key's errors JSON.stringify'd
// from 8.18 (elastic/kibana#207130, inferred: docs/fleetsim-inferred.md
// item 56), joined with "," (`${value}` of the array) before.
func TestVarRules_Line(t *testing.T) {
	errs := []string{"Hosts is required", `Strings starting with special YAML characters like * or & need to be enclosed in double quotes.`}
	for _, tc := range []struct{ version, want string }{
		{"9.3.0", `inputs.x.vars.hosts: ["Hosts is required","Strings starting with special YAML characters like * or & need to be enclosed in double quotes."]`},
		{"8.17.4", `inputs.x.vars.hosts: Hosts is required,Strings starting with special YAML characters like * or & need to be enclosed in double quotes.`},
	} {
		if got := varRulesFor(tc.version).line("inputs.x.vars.hosts", errs); got != tc.want {
			t.Errorf("%s: got %s\nwant %s", tc.version, got, tc.want)
		}
	}
}
