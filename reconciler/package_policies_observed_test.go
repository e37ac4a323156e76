package reconciler

import (
	"reflect"
	"testing"

	"github.com/fleetform/fleetform/schema"
)

// TestDiffIntegrationPolicy_AsFullObservation: the diff of the declared
// keys, which reads only the declared inputs, streams and vars of the
// observed policy and reuses the declared values that match
// (observedFieldsOf with want), is the diff against the whole observed
// policy (observedIntegrationPolicyFields) — matching and differing
// declarations of every field.
func TestDiffIntegrationPolicy_AsFullObservation(t *testing.T) {
	desc, other := "web logs", "other"
	tests := []struct {
		name string
		edit func(p *schema.PackagePolicy)
	}{
		{"as declared", func(p *schema.PackagePolicy) {}},
		{"name and namespace differ", func(p *schema.PackagePolicy) { p.Name, p.Namespace = "x", "prod" }},
		{"description matches", func(p *schema.PackagePolicy) { p.Description = &desc }},
		{"description differs", func(p *schema.PackagePolicy) { p.Description = &other }},
		{"output set", func(p *schema.PackagePolicy) { p.OutputID = schema.Some("remote") }},
		{"output cleared", func(p *schema.PackagePolicy) { p.OutputID = schema.Null[string]() }},
		{"package version differs", func(p *schema.PackagePolicy) { p.Package.Version = "2.2.0" }},
		{"policy ids differ", func(p *schema.PackagePolicy) { p.PolicyIDs = []string{"web"} }},
		{"policy ids match in another order", func(p *schema.PackagePolicy) { p.PolicyIDs = []string{"web", "edge"} }},
		{"a stream var differs", func(p *schema.PackagePolicy) {
			p.Inputs = map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
				"nginx.access": {Vars: schema.Vars{"paths": []any{"/x"}, "tags": []any{"nginx-access"}}}}}}
		}},
		{"an undeclared stream of the answer declared", func(p *schema.PackagePolicy) {
			f := true
			p.Inputs = map[string]schema.PackagePolicyInput{"nginx-logfile": {Enabled: &f, Streams: map[string]schema.PackagePolicyStream{
				"nginx.error": {Enabled: &f}, "nginx.missing": {Vars: schema.Vars{"a": 1}}}}}
		}},
		{"input vars and a missing input", func(p *schema.PackagePolicy) {
			p.Inputs = map[string]schema.PackagePolicyInput{
				"nginx-nginx/metrics": {Vars: schema.Vars{"hosts": []any{"http://127.0.0.1:80"}, "new": "v"}},
				"nginx-absent":        {Vars: schema.Vars{"a": "b"}}}
		}},
		{"package vars", func(p *schema.PackagePolicy) { p.Vars = schema.Vars{"v": 1} }},
	}
	have := observedNginx(t)
	full, err := observedIntegrationPolicyFields(have)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := schema.PackagePolicy{ID: "nginx-web", Name: "nginx web", Namespace: "default", PolicyIDs: []string{"edge", "web"},
				Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"}}
			tt.edit(&p)
			want := integrationPolicyFields(p)
			got, err := diffIntegrationPolicy(want, have)
			if err != nil {
				t.Fatal(err)
			}
			if exp := diffManaged("", want, full); !reflect.DeepEqual(got, exp) {
				t.Errorf("diff %+v\nagainst the whole observation %+v", got, exp)
			}
		})
	}
}
