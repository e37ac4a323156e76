package kibanayml_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/schema"
)

// preconfiguredAgentPolicyKeys are the keys of Kibana's
// PreconfiguredAgentPoliciesSchema (server/types/models/preconfiguration.ts):
// AgentPolicyBaseSchema (server/types/models/agent_policy.ts, advanced_settings
// from getSettingsAPISchema) plus space_id, namespace, id, is_default,
// is_default_fleet_server, has_fleet_server, data_output_id,
// monitoring_output_id and package_policies. Any other key stops Kibana at
// start ("definition for this key is missing").
var preconfiguredAgentPolicyKeys = []string{
	"id", "space_ids", "name", "namespace", "description", "is_managed", "has_fleet_server", "is_default",
	"is_default_fleet_server", "unenroll_timeout", "inactivity_timeout", "monitoring_enabled",
	"keep_monitoring_alive", "data_output_id", "monitoring_output_id", "download_source_id",
	"fleet_server_host_id", "agent_features", "is_protected", "overrides", "advanced_settings",
	"supports_agentless", "global_data_tags", "agentless", "monitoring_pprof_enabled", "monitoring_http",
	"monitoring_diagnostics", "required_versions",
	"space_id", "package_policies",
}

// Every agent policy key fleetform can render is one Kibana's
// preconfiguration takes, and no declared field is dropped but adopt.
func TestAgentPolicies_OnlyKeysKibanaPreconfigurationTakes(t *testing.T) {
	rt := reflect.TypeFor[schema.AgentPolicy]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name == "adopt" {
			continue // fleetform-only; adopted policies are left out whole
		}
		if !slices.Contains(preconfiguredAgentPolicyKeys, name) {
			t.Errorf("schema.AgentPolicy.%s renders as %s, which PreconfiguredAgentPoliciesSchema refuses", rt.Field(i).Name, name)
		}
	}
	for _, dir := range []string{"testdata/whole-fleet", "testdata/download-sources", "testdata/remote-and-defaults"} {
		var y struct {
			Policies []map[string]any `yaml:"xpack.fleet.agentPolicies"`
		}
		if err := yaml.Unmarshal(render(t, dir), &y); err != nil {
			t.Fatal(err)
		}
		for _, p := range y.Policies {
			for k := range p {
				if !slices.Contains(preconfiguredAgentPolicyKeys, k) {
					t.Errorf("%s: agent policy %v renders %s, which PreconfiguredAgentPoliciesSchema refuses", dir, p["id"], k)
				}
			}
		}
	}
}
