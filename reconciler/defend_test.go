package reconciler

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// The Elastic Defend warning follows Elastic's documentation of the remote
// Elasticsearch output ("Limitations", RemoteOutputDocs).
func TestDefendRemoteWarnings(t *testing.T) {
	ptr := func(s string) *string { return &s }
	yes := true
	outputs := []schema.Output{
		{ID: "es", Name: "es", Type: "elasticsearch"},
		{ID: "remote-west", Name: "west", Type: "remote_elasticsearch"},
	}
	obsWith := func(policies map[string]kibana.AgentPolicy, ips ...kibana.IntegrationPolicy) (*observation, *ipObservation) {
		obs := &observation{outputs: map[string]map[string]any{
			"es":          {"id": "es", "type": "elasticsearch", "is_default": true},
			"remote-west": {"id": "remote-west", "type": "remote_elasticsearch"},
		}, policies: policies}
		ipo := &ipObservation{policies: map[string]kibana.IntegrationPolicy{}}
		for _, p := range ips {
			ipo.policies[p.ID] = p
		}
		return obs, ipo
	}
	defend := func(id string, output *string, policies ...string) schema.PackagePolicy {
		p := schema.PackagePolicy{ID: id, Name: id, Package: &schema.PackagePolicyPackage{Name: "endpoint"}, PolicyIDs: policies}
		if output != nil {
			p.OutputID = schema.Some(*output)
		}
		return p
	}
	tests := []struct {
		name     string
		doc      schema.Document
		policies map[string]kibana.AgentPolicy
		observed []kibana.IntegrationPolicy
		want     []string // substrings, one per warning
	}{
		{"data_output_id is remote",
			schema.Document{Outputs: outputs, AgentPolicies: []schema.AgentPolicy{{ID: "edr", Name: "EDR", DataOutputID: ptr("remote-west")}},
				PackagePolicies: []schema.PackagePolicy{defend("defend-1", nil, "edr")}},
			nil, nil, []string{`agent policy edr ("EDR") holds the Elastic Defend integration defend-1, whose data goes to the remote_elasticsearch output remote-west (the agent policy's data_output_id)`}},
		{"the default output is remote",
			schema.Document{Outputs: []schema.Output{{ID: "remote-west", Type: "remote_elasticsearch", IsDefault: &yes}},
				AgentPolicies: []schema.AgentPolicy{{ID: "edr", Name: "EDR"}}, PackagePolicies: []schema.PackagePolicy{defend("defend-1", nil, "edr")}},
			nil, nil, []string{"remote-west (the default output)"}},
		{"the integration's output_id is remote",
			schema.Document{Outputs: outputs, AgentPolicies: []schema.AgentPolicy{{ID: "edr", Name: "EDR"}},
				PackagePolicies: []schema.PackagePolicy{defend("defend-1", ptr("remote-west"), "edr")}},
			nil, nil, []string{"remote-west (its output_id)"}},
		{"an observed, undeclared Defend integration in an observed policy",
			schema.Document{Outputs: outputs},
			map[string]kibana.AgentPolicy{"laptops": {ID: "laptops", Name: "Laptops", DataOutputID: ptr("remote-west")}},
			[]kibana.IntegrationPolicy{{ID: "d-9", Package: kibana.PackageRef{Name: "endpoint"}, PolicyIDs: []string{"laptops"}}},
			[]string{`agent policy laptops ("Laptops") holds the Elastic Defend integration d-9`}},
		{"Defend on an elasticsearch output: none",
			schema.Document{Outputs: outputs, AgentPolicies: []schema.AgentPolicy{{ID: "edr", Name: "EDR", DataOutputID: ptr("es")}},
				PackagePolicies: []schema.PackagePolicy{defend("defend-1", nil, "edr")}},
			nil, nil, nil},
		{"Defend routed back to elasticsearch by output_id: none",
			schema.Document{Outputs: outputs, AgentPolicies: []schema.AgentPolicy{{ID: "edr", Name: "EDR", DataOutputID: ptr("remote-west")}},
				PackagePolicies: []schema.PackagePolicy{defend("defend-1", ptr("es"), "edr")}},
			nil, nil, nil},
		{"another integration on the remote output: none",
			schema.Document{Outputs: outputs, AgentPolicies: []schema.AgentPolicy{{ID: "web", Name: "Web", DataOutputID: ptr("remote-west")}},
				PackagePolicies: []schema.PackagePolicy{{ID: "nginx-1", Package: &schema.PackagePolicyPackage{Name: "nginx"}, PolicyIDs: []string{"web"}}}},
			nil, nil, nil},
	}
	r := &Reconciler{cfg: Config{Cluster: "main"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, ipo := obsWith(tt.policies, tt.observed...)
			got := r.defendRemoteWarnings(&tt.doc, obs, ipo)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings = %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) || !strings.Contains(got[i], "response actions stop working") ||
					!strings.Contains(got[i], "traffic filters") || !strings.Contains(got[i], RemoteOutputDocs) {
					t.Errorf("warning %q\nwant it to contain %q, the documented consequence and the page", got[i], w)
				}
			}
		})
	}
}
