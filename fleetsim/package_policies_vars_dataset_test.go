package fleetsim

import (
	"slices"
	"strings"
	"testing"
)

// The data_stream.dataset check (elastic/kibana#182925, #287557), the
// TypeError of a dataset that is not a string, default: null and the
// simplified vars' boolean strings (#256047): package_policies_vars_dataset.go.
func TestDatasetCheck_ByVersion(t *testing.T) {
	m := manifestOf("log")
	if m == nil || m.raw == nil || len(m.DataStreams) != 1 || m.DataStreams[0].Dataset != "log.logs" {
		t.Fatalf("log is not normalized as getNormalizedDataStreams does: %+v", m)
	}
	policy := func(version string, vars map[string]any) ([]map[string]any, map[string]any) {
		t.Helper()
		in, pv, err := applySimplified(version, m, map[string]any{"logs-logfile": map[string]any{"streams": map[string]any{
			"log.logs": map[string]any{"vars": vars}}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return in, pv
	}
	const key = "inputs.logfile.streams.log.logs.vars.data_stream.dataset: "
	for _, tc := range []struct {
		name, version string
		vars          map[string]any
		status        int
		want          string
	}{
		{"8.13 takes a dash", "8.13.4", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": "my-app"}, 0, ""},
		// elastic/package-spec#752 quotes this answer of an 8.14/8.15 Kibana.
		{"8.14 refuses it", "8.14.0", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": "spec.input-test"}, 400,
			"Package policy is invalid: " + key + "Dataset contains invalid characters"},
		{"9.4", "9.4.0", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": "_x"}, 400,
			"Package policy is invalid: " + key + `["Dataset cannot start with an underscore or dot"]`},
		{"required, not given", "9.4.0", map[string]any{"paths": []any{"/a"}}, 400,
			"Package policy is invalid: " + key + `["Dataset name is required"]`},
		{"a number throws", "9.4.0", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": 7.0}, 500, "name.trim is not a function"},
		{"null throws", "9.4.0", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": nil}, 500, "Cannot read properties of null (reading 'dataset')"},
		{"an array throws", "9.4.0", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": []any{"a"}}, 500, "name.trim is not a function"},
		{`"false" is false before 9.4`, "9.3.0", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": "false"}, 500, "name.trim is not a function"},
		{`"false" is a dataset from 9.4`, "9.4.0", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": "false"}, 0, ""},
		{"8.13 does not throw", "8.13.4", map[string]any{"paths": []any{"/a"}, "data_stream.dataset": 7.0}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, pv := policy(tc.version, tc.vars)
			resp := packagePolicyInvalid(tc.version, m, "p", "", in, pv)
			switch {
			case tc.status == 0 && resp != nil:
				t.Fatalf("refused: %+v", resp.body)
			case tc.status == 0:
				return
			case resp == nil:
				t.Fatalf("accepted, want %d %s", tc.status, tc.want)
			}
			if b := resp.body.(errorBody); resp.status != tc.status || b.Message != tc.want {
				t.Errorf("%d %q, want %d %q", resp.status, b.Message, tc.status, tc.want)
			}
		})
	}
}

// From 9.5 (elastic/kibana#287557) any var named data_stream.dataset is
// checked — an integration package's (aws_logs has one) at any level.
func TestDatasetCheck_IntegrationPackageFrom95(t *testing.T) {
	m := &pkgManifest{Name: "aws_logs", Type: "integration", Vars: []varDef{{Name: datasetVarName, Type: "text", Title: "Dataset name"}}}
	vars := map[string]any{datasetVarName: map[string]any{"type": "text", "value": "aws-logs"}}
	if got := validatePackagePolicyInputs("9.4.0", m, "p", "", nil, vars); len(got) != 0 {
		t.Errorf("9.4: %q", got)
	}
	if got := validatePackagePolicyInputs("9.5.0", m, "p", "", nil, vars); !slices.Equal(got, []string{`vars.data_stream.dataset: ["Dataset contains invalid characters"]`}) {
		t.Errorf("9.5: %q", got)
	}
}

func TestIsValidDataset(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"log.logs", ""},
		{"a-b", "Dataset contains invalid characters"},
		{"a\u3000b", "Dataset contains invalid characters"},
		{"a|b", "Dataset contains invalid characters"},
		{"ABC", "Dataset must be lowercase"},
		{"", "Dataset is required"},
		{strings.Repeat("ü", 51), "Dataset cannot be more than 100 bytes"},
		{"_a", "Dataset cannot start with an underscore or dot"},
	} {
		if got := isValidDataset(tc.in); got != tc.want {
			t.Errorf("isValidDataset(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// varsReducer: `default: null` gives a defined null; the package info shows
// it; a multi var's null default is [].
func TestVarsRecord_DefaultNull(t *testing.T) {
	defs := []varDef{
		{Name: "mode", Type: "select", Required: true, DefaultNull: true, Options: []any{"a"}},
		{Name: "none", Type: "text", Required: true},
		{Name: "hosts", Type: "text", Multi: true, DefaultNull: true},
	}
	rec := varsRecord(defs)
	if v := entryValue(rec, "mode"); !v.present || v.v != nil {
		t.Errorf("default: null = %+v", v)
	}
	if v := entryValue(rec, "none"); v.present {
		t.Errorf("no default = %+v, want undefined", v)
	}
	if v := entryValue(rec, "hosts"); !v.present || len(v.v.([]any)) != 0 {
		t.Errorf("multi default: null = %+v, want []", v)
	}
	r := varRulesFor("9.4.0")
	if errs := validateVar(entryValue(rec, "mode"), defs[0], r); !slices.Equal(errs, []string{"Invalid value for select type"}) {
		t.Errorf("select default: null: %q", errs)
	}
	if errs := validateVar(entryValue(rec, "none"), defs[1], r); !slices.Equal(errs, []string{"none is required"}) {
		t.Errorf("no default: %q", errs)
	}
	js := varDefsJSON(defs, true)
	if d, ok := js[0].(map[string]any)["default"]; !ok || d != nil {
		t.Errorf("the info answer lacks default: null: %v", js[0])
	}
	if _, ok := js[1].(map[string]any)["default"]; ok {
		t.Errorf("the info answer shows a default that is not there: %v", js[1])
	}
}

// SimplifiedVarsSchema before 9.4: "true"/"false" in any case become
// booleans, at every level; arrays and other strings stay.
func TestApplySimplified_BoolStrings(t *testing.T) {
	m := manifestOf("nginx")
	body := func() map[string]any {
		return map[string]any{"nginx-logfile": map[string]any{"streams": map[string]any{"nginx.access": map[string]any{"vars": map[string]any{
			"preserve_original_event": "TRUE", "tags": []any{"true"}, "ignore_older": " false"}}}}}
	}
	for _, tc := range []struct {
		version string
		want    any
	}{{"9.3.2", true}, {"9.4.0", "TRUE"}} {
		given := body()
		in, _, err := applySimplified(tc.version, m, given, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := findStream(in[0], "nginx.access")
		rec := st["vars"].(map[string]any)
		if v := entryValue(rec, "preserve_original_event"); v.v != tc.want {
			t.Errorf("%s: %v, want %v", tc.version, v.v, tc.want)
		}
		if v := entryValue(rec, "tags"); !slices.Equal(v.v.([]any), []any{"true"}) {
			t.Errorf("%s: array %v", tc.version, v.v)
		}
		if v := entryValue(rec, "ignore_older"); v.v != " false" {
			t.Errorf("%s: untrimmed %v", tc.version, v.v)
		}
		if given["nginx-logfile"].(map[string]any)["streams"].(map[string]any)["nginx.access"].(map[string]any)["vars"].(map[string]any)["preserve_original_event"] != "TRUE" {
			t.Error("the request body was changed in place")
		}
	}
}

// The package info of an input package shows its templates as written.
func TestManifestDefinitions_InputPackage(t *testing.T) {
	item := map[string]any{}
	manifestDefinitions(item, manifestOf("log"), true)
	pts := item["policy_templates"].([]any)
	pt := pts[0].(map[string]any)
	if item["type"] != "input" || len(pts) != 1 || pt["input"] != "logfile" || pt["type"] != "logs" || pt["inputs"] != nil {
		t.Errorf("policy templates: %v", pts)
	}
	if vars := pt["vars"].([]any); len(vars) != 7 || vars[3].(map[string]any)["name"] != datasetVarName {
		t.Errorf("vars: %v", vars)
	}
	if ds := item["data_streams"].([]any); len(ds) != 0 {
		t.Errorf("data streams of an input package: %v", ds)
	}
}
