package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// An input package's data_stream.dataset (package_policies_values_dataset.go):
// from 8.14 Kibana checks it with isValidDataset (elastic/kibana#182925)
// and answers 400; a value that is not a string makes it throw (500).
// Before this check the plan let such a policy through, and apply failed
// at Kibana after writing the other changes. Also the simplified vars'
// "true"/"false" strings, which Kibana before 9.4 reads as booleans
// (elastic/kibana#256047).

// logPolicy is a policy of fleetsim's input package log 2.3.1 on web: the
// simplified format keys its one input <template>-<input type> and its one
// stream by the dataset <package>.<template>.
func logPolicy(id string, vars schema.Vars) schema.PackagePolicy {
	return schema.PackagePolicy{ID: id, Name: id, Namespace: "default", PolicyIDs: []string{"web"},
		Package: &schema.PackagePolicyPackage{Name: "log", Version: "2.3.1"},
		Inputs: map[string]schema.PackagePolicyInput{"logs-logfile": {Streams: map[string]schema.PackagePolicyStream{
			"log.logs": {Vars: vars}}}}}
}

// datasetVars are log's vars with the dataset given (absent when nil).
func datasetVars(dataset any) schema.Vars {
	v := schema.Vars{"paths": []any{"/srv/app/*.log"}}
	if dataset != nil {
		v["data_stream.dataset"] = dataset
	}
	return v
}

const datasetKey = "inputs.logfile.streams.log.logs.vars.data_stream.dataset: "

func TestSim_InputPackagePolicy_DatasetChecked(t *testing.T) {
	cases := []struct {
		name    string
		version string // "": fleetsim's default
		bad     schema.PackagePolicy
		status  int    // Kibana's status: 400, 500, or 0 (accepted)
		want    string // Kibana's whole message
	}{{
		name: "a dash", bad: logPolicy("bad", datasetVars("my-app")), status: 400,
		want: "Package policy is invalid: " + datasetKey + `["Dataset contains invalid characters"]`,
	}, {
		// Before 8.18 errors are joined: the form elastic/package-spec#752
		// quotes from an 8.14/8.15 Kibana. (Before 8.15 fleetform cannot
		// attach an integration policy at all — policy_ids — so 8.13's
		// acceptance is TestDatasetRules'.)
		name: "a dash on 8.17, errors joined", version: "8.17.0", bad: logPolicy("bad", datasetVars("spec.input-test")), status: 400,
		want: "Package policy is invalid: " + datasetKey + "Dataset contains invalid characters",
	}, {
		name: "upper case", bad: logPolicy("bad", datasetVars("MyApp")), status: 400,
		want: "Package policy is invalid: " + datasetKey + `["Dataset must be lowercase"]`,
	}, {
		name: "leading underscore", bad: logPolicy("bad", datasetVars("_app")), status: 400,
		want: "Package policy is invalid: " + datasetKey + `["Dataset cannot start with an underscore or dot"]`,
	}, {
		name: "leading dot after trimming", bad: logPolicy("bad", datasetVars("  .app")), status: 400,
		want: "Package policy is invalid: " + datasetKey + `["Dataset cannot start with an underscore or dot"]`,
	}, {
		name: "over 100 bytes", bad: logPolicy("bad", datasetVars(strings.Repeat("é", 51))), status: 400,
		want: "Package policy is invalid: " + datasetKey + `["Dataset cannot be more than 100 bytes"]`,
	}, {
		// "" is defined, so not "Dataset name is required".
		name: "empty", bad: logPolicy("bad", datasetVars("")), status: 400,
		want: "Package policy is invalid: " + datasetKey + `["Dataset is required"]`,
	}, {
		// log's own data_stream.dataset var is required and has no
		// default.
		name: "not given", bad: logPolicy("bad", datasetVars(nil)), status: 400,
		want: "Package policy is invalid: " + datasetKey + `["Dataset name is required"]`,
	}, {
		name: "YAML special start and invalid characters", bad: logPolicy("bad", datasetVars("*app")), status: 400,
		want: "Package policy is invalid: " + datasetKey +
			`["Strings starting with special YAML characters like * or & need to be enclosed in double quotes.","Dataset contains invalid characters"]`,
	}, {
		name: "a number: Kibana throws", bad: logPolicy("bad", datasetVars(5.0)), status: 500,
		want: "name.trim is not a function",
	}, {
		name: "null: Kibana throws", bad: logPolicy("bad", schema.Vars{"paths": []any{"/a.log"}, "data_stream.dataset": nil}), status: 500,
		want: "Cannot read properties of null (reading 'dataset')",
	}, {
		// Before 9.4 the string "true" is read as true (SimplifiedVarsSchema).
		name: `"true" on 9.3: a boolean, Kibana throws`, version: "9.3.2", bad: logPolicy("bad", datasetVars("True")), status: 500,
		want: "name.trim is not a function",
	}, {
		name: `"true" on 9.4: a dataset`, version: "9.4.0", bad: logPolicy("bad", datasetVars("true")),
	}, {
		name: "valid", bad: logPolicy("bad", datasetVars("my_app.access")),
	}, {
		// A bool var's "TRUE": true before 9.4, a string Kibana refuses
		// from 9.4.
		name: `bool var "TRUE" on 9.3`, version: "9.3.2",
		bad: nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"preserve_original_event": "TRUE"}), nil),
	}, {
		name: `bool var "TRUE" on 9.4`, version: "9.4.0", status: 400,
		bad:  nginxPolicy("bad", nginxStream("nginx.access", schema.Vars{"preserve_original_event": "TRUE"}), nil),
		want: `Package policy is invalid: inputs.logfile.streams.nginx.access.vars.preserve_original_event: ["Boolean values must be either true or false"]`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on", Version: tc.version})
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}, {ID: "db", Name: "DB", Namespace: "default"}}}
			good := logPolicy("good", datasetVars("good_app"))
			doc.PackagePolicies = []schema.PackagePolicy{tc.bad, good}

			p := h.plan(doc)
			ch := changeOf(p, KindIntegrationPolicy, "bad")
			if ch == nil {
				t.Fatalf("no change for the policy:\n%s", renderText(p))
			}
			switch tc.status {
			case 0:
				if ch.Action != plan.Create {
					t.Fatalf("a policy Kibana accepts is %s: %s", ch.Action, ch.Reason)
				}
			case 400:
				if ch.Action != plan.Blocked || kibanaMessage(ch.Reason) != tc.want {
					t.Fatalf("plan: %s %q\nwant blocked quoting\n%s", ch.Action, ch.Reason, tc.want)
				}
			case 500:
				if ch.Action != plan.Blocked || !strings.HasPrefix(ch.Reason, "Kibana fails with 500: "+tc.want+" (") {
					t.Fatalf("plan: %s %q\nwant blocked with Kibana's 500 %s", ch.Action, ch.Reason, tc.want)
				}
			}
			if c := changeOf(p, KindIntegrationPolicy, "good"); c == nil || c.Action != plan.Create {
				t.Errorf("the valid policy is not a create:\n%s", renderText(p))
			}

			h.sim.ClearRequests()
			_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				if got := h.integrationPolicy("bad"); got.ID != "bad" {
					t.Errorf("apply did not create the policy: %+v", got)
				}
				return
			}
			if err != nil && !errors.Is(err, ErrBlocked) {
				t.Fatalf("apply: %v", err)
			}
			if creates := slices.DeleteFunc(h.writes(), func(w string) bool { return w != "POST /api/fleet/package_policies" }); len(creates) != 1 {
				t.Errorf("apply sent %d integration policy creates, want 1 (the valid one)", len(creates))
			}
			// plan == apply: fleetsim answers the body apply would send
			// with what the plan said.
			err = sendAsApplyWould(t, h, tc.bad)
			var ae *kibana.APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Message != tc.want {
				t.Errorf("fleetsim answers %v, the plan said %d %s", err, tc.status, tc.want)
			}
		})
	}
}

// A dataset read from a secret reference is checked at apply, before any
// write, and never shown.
func TestSim_InputPackagePolicy_ReferencedDatasetCheckedBeforeWrites(t *testing.T) {
	for _, tc := range []struct {
		name, version, value, want string
	}{
		{"invalid characters", "", "Zq-Team-7731", datasetKey + `["Dataset must be lowercase"]`},
		{`"false" before 9.4`, "9.3.2", "FALSE", "Kibana fails with 500: name.trim is not a function"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on", Version: tc.version})
			h.secrets["env:APP_DATASET"] = tc.value
			doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}, {ID: "db", Name: "DB", Namespace: "default"}},
				PackagePolicies: []schema.PackagePolicy{logPolicy("bad", datasetVars(map[string]any{"env": "APP_DATASET"}))}}
			if ch := changeOf(h.plan(doc), KindIntegrationPolicy, "bad"); ch == nil || ch.Action != plan.Create {
				t.Fatalf("the plan does not show the create it cannot check: %+v", ch)
			}
			h.sim.ClearRequests()
			_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
			if w := h.writes(); len(w) != 0 {
				t.Errorf("apply wrote before refusing: %v", w)
			}
			if !errors.Is(err, ErrReferencedValuesRefused) {
				t.Fatalf("apply: err = %v, want ErrReferencedValuesRefused", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "data_stream.dataset read from env:APP_DATASET") {
				t.Errorf("apply's error lacks %q or the reference:\n%s", tc.want, msg)
			}
			if strings.Contains(strings.ToLower(msg), strings.ToLower(tc.value)) {
				t.Errorf("apply's error shows the value:\n%s", msg)
			}
		})
	}
}

// The rules alone: isValidDataset, which vars the check reaches by version
// and package type, default: null, and the boolean strings.
func TestDatasetRules(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nginx.access", ""},
		{"a b", "Dataset contains invalid characters"},
		{"a\u00a0b", "Dataset contains invalid characters"}, // JavaScript's \s
		{"a\vb", "Dataset contains invalid characters"},
		{"a#b", "Dataset contains invalid characters"},
		{"a:b", "Dataset contains invalid characters"},
		{"a*b", "Dataset contains invalid characters"},
		{"Ab-c", "Dataset must be lowercase"},
		{"   ", "Dataset is required"},
		{strings.Repeat("a", 100), ""},
		{strings.Repeat("a", 101), "Dataset cannot be more than 100 bytes"},
		{".hidden", "Dataset cannot start with an underscore or dot"},
		{"a._b", ""},
	} {
		if got := isValidDataset(tc.in); got != tc.want {
			t.Errorf("isValidDataset(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		version, pkgType string
		stream           bool
		want             bool
	}{
		{"8.13.9", "input", true, false},
		{"8.14.0", "input", true, true},
		{"9.4.0", "input", false, false},
		{"9.4.0", "integration", true, false},
		{"9.5.0", "integration", true, true}, // elastic/kibana#287557
		{"9.5.0", "integration", false, true},
	} {
		if got := valueRulesFor(tc.version).datasetChecked("data_stream.dataset", tc.stream, tc.pkgType); got != tc.want {
			t.Errorf("%s %s stream=%v: checked = %v, want %v", tc.version, tc.pkgType, tc.stream, got, tc.want)
		}
	}
	// 8.13 takes what 8.14 refuses (the joined form of 8.14).
	ld := packageDefaults(kibana.PackageInfo{Name: "log", Type: "input", PolicyTemplates: []kibana.PackagePolicyTemplate{{Name: "logs", Type: "logs", Input: ptr("logfile")}}})
	lin := map[string]any{"logs-logfile": map[string]any{"streams": map[string]any{"log.logs": map[string]any{"vars": map[string]any{"data_stream.dataset": "my-app"}}}}}
	if got := kibanaValueErrors(&ld, lin, nil, nil, nil, valueRulesFor("8.13.4")); len(got) != 0 {
		t.Errorf("8.13 refuses a dash: %+v", got)
	}
	r814 := valueRulesFor("8.14.0")
	if got := kibanaValueErrors(&ld, lin, nil, nil, nil, r814); len(got) != 1 || r814.errLine(got[0], got[0].errs) != datasetKey+"Dataset contains invalid characters" {
		t.Errorf("8.14: %+v", got)
	}
	// The var packageDefaults adds to a template without one: titled
	// "Dataset name", its default the template's name.
	if v := ld.inputs["logs-logfile"].streams["log.logs"]["data_stream.dataset"]; v.Title != "Dataset name" || v.Default != "logs" || !v.Required {
		t.Errorf("added dataset var: %+v", v)
	}
	if valueRulesFor("9.5.0").datasetChecked("dataset", true, "input") {
		t.Error("a var not named data_stream.dataset is checked")
	}
	// An integration package's data_stream.dataset var (aws_logs has one):
	// unchecked before 9.5, checked from 9.5.
	d := pkgDefaults{pkgType: "integration", varList: []kibana.PackageVar{{Name: "data_stream.dataset", Type: "text", Title: "Dataset name"}}}
	vars := map[string]any{"data_stream.dataset": "aws-logs"}
	if got := kibanaValueErrors(&d, nil, vars, nil, nil, valueRulesFor("9.4.0")); len(got) != 0 {
		t.Errorf("9.4 checks an integration package's dataset: %+v", got)
	}
	if got := kibanaValueErrors(&d, nil, vars, nil, nil, valueRulesFor("9.5.0")); len(got) != 1 || !slices.Equal(got[0].errs, []string{"Dataset contains invalid characters"}) {
		t.Errorf("9.5: %+v", got)
	}

	// varsReducer: `default: null` is a defined null; no default is
	// undefined; a multi var's null default is [].
	sel := kibana.PackageVar{Name: "mode", Type: "select", Title: "Mode", Required: true, DefaultNull: true, Options: []kibana.PackageOption{{Value: "a"}}}
	if v := defaultVarValue(sel); !v.present || v.v != nil {
		t.Errorf("default: null = %+v, want a present null", v)
	}
	if errs := validateValue(defaultVarValue(sel), sel, valueRulesFor("")); !slices.Equal(errs, []string{"Invalid value for select type"}) {
		t.Errorf("required select with default: null: %q (a null is defined: not required, not an option)", errs)
	}
	sel.DefaultNull = false
	if errs := validateValue(defaultVarValue(sel), sel, valueRulesFor("")); !slices.Equal(errs, []string{"Mode is required"}) {
		t.Errorf("required select without default: %q", errs)
	}
	multi := kibana.PackageVar{Name: "hosts", Type: "text", Multi: true, DefaultNull: true}
	if v := defaultVarValue(multi); !v.present || len(v.v.([]any)) != 0 {
		t.Errorf("multi default: null = %+v, want []", v)
	}

	body := map[string]any{"vars": map[string]any{"a": "True", "b": " true", "c": []any{"true"}},
		"inputs": map[string]any{"x-y": map[string]any{"vars": map[string]any{"d": "FALSE"},
			"streams": map[string]any{"x.y": map[string]any{"vars": map[string]any{"e": "false"}}}}}}
	coerceBoolStrings(body)
	pv := body["vars"].(map[string]any)
	in := body["inputs"].(map[string]any)["x-y"].(map[string]any)
	st := in["streams"].(map[string]any)["x.y"].(map[string]any)
	if pv["a"] != true || pv["b"] != " true" || !slices.Equal(pv["c"].([]any), []any{"true"}) ||
		in["vars"].(map[string]any)["d"] != false || st["vars"].(map[string]any)["e"] != false {
		t.Errorf("coerceBoolStrings: %v", body)
	}
}

// The package info decodes a null default apart from none.
func TestPackageVar_DefaultNull(t *testing.T) {
	for _, tc := range []struct {
		in       string
		null     bool
		defaultV any
	}{
		{`{"name":"a","type":"text","default":null}`, true, nil},
		{`{"name":"a","type":"text"}`, false, nil},
		{`{"name":"a","type":"text","default":"x"}`, false, "x"},
		{`{"name":"a","type":"bool","default":false}`, false, false},
	} {
		var info kibana.PackageInfo
		if err := jsonUnmarshal(`{"vars":[`+tc.in+`]}`, &info); err != nil {
			t.Fatal(err)
		}
		v := info.Vars[0]
		if v.DefaultNull != tc.null || v.Default != tc.defaultV || v.Name != "a" {
			t.Errorf("%s: %+v", tc.in, v)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// Before 9.4 Kibana stores "TRUE" as true, so a declared "TRUE" never
// converges: the plan warns, naming the var, not the value; from 9.4 the
// string is kept and nothing is said.
func TestSim_IntegrationPolicy_BoolStringWarns(t *testing.T) {
	for _, tc := range []struct {
		version string
		warn    bool
	}{{"9.3.2", true}, {"9.4.0", false}} {
		h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", SecretStorage: "on", Version: tc.version})
		doc := &schema.Document{AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", Namespace: "default"}},
			PackagePolicies: []schema.PackagePolicy{nginxPolicy("p", nginxStream("nginx.access", schema.Vars{"preserve_original_event": "False"}), nil)}}
		p := h.plan(doc)
		const want = "integration policy p: inputs.nginx-logfile.streams.nginx.access.vars.preserve_original_event is declared as a string that Kibana before 9.4 reads as a boolean"
		got := slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.HasPrefix(w, want) && !strings.Contains(w, "False") })
		if got != tc.warn {
			t.Errorf("%s: warnings %q, want the boolean-string warning: %v", tc.version, p.Warnings, tc.warn)
		}
		// It converges: before 9.4 the plan compares the declared string
		// as the boolean Kibana stored for it (from 9.4 Kibana refuses
		// the string for a bool variable).
		if !tc.warn {
			continue
		}
		if _, err := h.r.Apply(t.Context(), doc, nil, ApplyOptions{}); err != nil {
			t.Fatalf("%s: apply: %v", tc.version, err)
		}
		if p := h.plan(doc); !p.Empty() {
			t.Errorf("%s: plan after apply:\n%s", tc.version, renderText(p))
		}
	}
}
