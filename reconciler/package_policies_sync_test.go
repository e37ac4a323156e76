package reconciler

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/schema"
)

func TestRemoteIntegrationUse(t *testing.T) {
	yes := true
	doc := &schema.Document{
		Outputs: []schema.Output{
			{ID: "es", Type: "elasticsearch", IsDefault: &yes},
			{ID: "west", Type: "remote_elasticsearch", Remote: "west"},
			{ID: "east", Type: "remote_elasticsearch", Remote: "east"},
		},
		AgentPolicies: []schema.AgentPolicy{{ID: "web"}, {ID: "east-hosts", DataOutputID: ptr("east")}},
		PackagePolicies: []schema.PackagePolicy{
			{ID: "nginx-web", Package: &schema.PackagePolicyPackage{Name: "nginx"}, PolicyIDs: []string{"web"}, OutputID: schema.Some("west")},
			{ID: "system-web", Package: &schema.PackagePolicyPackage{Name: "system"}, PolicyIDs: []string{"web"}},         // default: es
			{ID: "system-east", Package: &schema.PackagePolicyPackage{Name: "system"}, PolicyIDs: []string{"east-hosts"}}, // data_output_id
			{ID: "nginx-east", Package: &schema.PackagePolicyPackage{Name: "nginx"}, PolicyIDs: []string{"web", "east-hosts"}, OutputID: schema.Some("east")},
		},
	}
	want := map[string]map[string][]string{
		"west": {"nginx": {"nginx-web"}},
		"east": {"system": {"system-east"}, "nginx": {"nginx-east"}},
	}
	if got := RemoteIntegrationUse(doc); !reflect.DeepEqual(got, want) {
		t.Errorf("use = %v, want %v", got, want)
	}
	note := RemoteSyncNote("east", "east", map[string][]string{"nginx": {"nginx-east"}}, false)
	for _, s := range []string{"Kibana does not sync integration policies", "nginx (integration policy nginx-east)", "sync_integrations is off"} {
		if !strings.Contains(note, s) {
			t.Errorf("note %q lacks %q", note, s)
		}
	}
}
