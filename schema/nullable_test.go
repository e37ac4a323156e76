package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// An integration policy's output_id has three states: absent (unmanaged),
// null (clear it: Kibana's update schema takes
// schema.oneOf([schema.literal(null), schema.string()]),
// FLEET/server/types/models/package_policy.ts) and an output id. YAML and
// JSON decode alike; a wrong value is reported at its line.
func TestPackagePolicyOutputID_Decode(t *testing.T) {
	const head = `clusters:
  main:
    kibana: {url: https://kb:5601, auth: {api_key: {env: K}}}
    elasticsearch: {url: https://es:9200, auth: {api_key: {env: E}}}
outputs:
  - {id: es2, name: es2, type: elasticsearch, hosts: ["https://es2:9200"]}
agent_policies:
  - {id: web, name: web, namespace: default}
package_policies:
  - id: nginx
    name: nginx
    package: {name: nginx}
    policy_ids: [web]
`
	tests := []struct {
		name    string
		line    string // the output_id line, "" for none
		want    Nullable[string]
		wantErr string // an issue, "file:line:col: pointer: message" prefix
	}{
		{"absent", "", Nullable[string]{}, ""},
		{"null", "    output_id: null\n", Null[string](), ""},
		{"tilde", "    output_id: ~\n", Null[string](), ""},
		{"empty value", "    output_id:\n", Null[string](), ""},
		{"an output", "    output_id: es2\n", Some("es2"), ""},
		{"a number", "    output_id: 5\n", Nullable[string]{}, "f.yaml:14:16: /package_policies/0/output_id:"},
		{"empty string", "    output_id: \"\"\n", Nullable[string]{}, "f.yaml:14:16: /package_policies/0/output_id:"},
		{"undeclared output", "    output_id: nope\n", Nullable[string]{}, `f.yaml:14:16: /package_policies/0/output_id: output "nope" is not declared in outputs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := LoadFiles(t.Context(), fstest.MapFS{"f.yaml": {Data: []byte(head + tt.line)}}, "f.yaml")
			if tt.wantErr != "" {
				var is Issues
				if !errors.As(err, &is) || len(is) != 1 || !strings.HasPrefix(is[0].String(), tt.wantErr) {
					t.Fatalf("err = %v, want one issue starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := doc.PackagePolicies[0].OutputID; got != tt.want {
				t.Errorf("output_id = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Written back (render kibana-yml, tests' fixtures), an absent output_id
// stays absent and null stays null.
func TestNullable_JSONRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		in   Nullable[string]
		want string
	}{
		{Nullable[string]{}, `{"id":"p"}`},
		{Null[string](), `{"id":"p","output_id":null}`},
		{Some("es2"), `{"id":"p","output_id":"es2"}`},
	} {
		b, err := json.Marshal(PackagePolicy{ID: "p", OutputID: tt.in})
		if err != nil || string(b) != tt.want {
			t.Errorf("marshal %+v = %s, %v; want %s", tt.in, b, err, tt.want)
			continue
		}
		var back PackagePolicy
		if err := json.Unmarshal(b, &back); err != nil || back.OutputID != tt.in {
			t.Errorf("unmarshal %s = %+v, %v; want %+v", b, back.OutputID, err, tt.in)
		}
	}
	if p := Some("x").Ptr(); p == nil || *p != "x" {
		t.Errorf("Some(x).Ptr() = %v", p)
	}
	if Null[string]().Ptr() != nil || (Nullable[string]{}).Ptr() != nil {
		t.Error("Ptr of null or absent is not nil")
	}
}
