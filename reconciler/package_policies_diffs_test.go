package reconciler

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// TestIntegrationPolicyDiffs: the fields and diffs of many declared
// integration policies, computed on several goroutines, are each policy's
// own, in document order: some match, some differ, some do not exist, one
// answer does not read as the simplified format.
func TestIntegrationPolicyDiffs(t *testing.T) {
	base := observedNginx(t)
	doc := &schema.Document{}
	ipo := &ipObservation{policies: map[string]kibana.IntegrationPolicy{}}
	for i := range 1000 {
		id := fmt.Sprintf("pp-%04d", i)
		p := schema.PackagePolicy{ID: id, Name: id, Namespace: "default", PolicyIDs: []string{"edge", "web"},
			Package: &schema.PackagePolicyPackage{Name: "nginx", Version: "2.1.0"},
			Inputs: map[string]schema.PackagePolicyInput{"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
				"nginx.access": {Vars: schema.Vars{"paths": []any{"/var/log/nginx/access.log*"}}}}}}}
		if i%3 == 1 {
			p.Inputs["nginx-logfile"].Streams["nginx.access"].Vars["paths"] = []any{fmt.Sprintf("/srv/%d.log", i)}
		}
		doc.PackagePolicies = append(doc.PackagePolicies, p)
		if i%7 == 3 {
			continue // does not exist
		}
		have := base
		have.ID, have.Name = id, id
		if i == 501 {
			if err := have.UnmarshalJSON([]byte(`{"id":"pp-0501","name":"pp-0501","inputs":{"nginx-logfile":{"streams":[]}}}`)); err != nil {
				t.Fatal(err)
			}
		}
		ipo.policies[id] = have
	}
	got := integrationPolicyDiffs(doc, ipo, false)
	if len(got) != len(doc.PackagePolicies) {
		t.Fatalf("%d diffs for %d policies", len(got), len(doc.PackagePolicies))
	}
	differ, absent := 0, 0
	for i, p := range doc.PackagePolicies {
		want := ipDiff{fields: integrationPolicyFields(p)}
		have, exists := ipo.policies[p.ID]
		if exists {
			want.diff, want.err = diffIntegrationPolicy(want.fields, have)
		} else {
			absent++
		}
		if len(want.diff) > 0 {
			differ++
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("policy %s: got %+v, want %+v", p.ID, got[i], want)
		}
	}
	if differ == 0 || absent == 0 || got[501].err == nil {
		t.Errorf("the table lacks a case: %d differ, %d absent, unreadable: %v", differ, absent, got[501].err)
	}
}
