package schema

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// Kibana's own rules for the newer kinds, each with the Kibana source file
// (under x-pack/platform/plugins/shared/fleet/) whose message it repeats.
func TestKindRules_KibanaMessages(t *testing.T) {
	tests := []struct {
		source string // Kibana file the rule and message follow
		yaml   string
		want   string
	}{
		{"server/types/models/agent_policy.ts (validateGlobalDataTagInput)",
			"agent_policies:\n  - {id: a, name: a, namespace: default, global_data_tags: [{name: x, value: 1}, {name: x, value: 2}]}\n",
			"Found duplicate tag names: ['x'], duplicate tag names are not allowed."},
		{"server/types/models/agent_policy.ts (validateGlobalDataTagInput)",
			"agent_policies:\n  - {id: a, name: a, namespace: default, global_data_tags: [{name: 'a b', value: 1}]}\n",
			"Found tag names with spaces: ['a b'], tag names with spaces are not allowed."},
		{"server/types/models/agent_policy.ts (overrides)",
			"agent_policies:\n  - {id: a, name: a, namespace: default, overrides: {inputs: {}}}\n",
			"inputs overrides is not allowed"},
		{"server/types/models/preconfiguration.ts (xpack.fleet.config.disableSynthetics)",
			"agent_policies:\n  - {id: a, name: a, namespace: default}\npackage_policies:\n  - {id: s, name: s, package: {name: synthetics}, policy_ids: [a]}\n",
			"Synthetics package is not supported via kibana.yml config."},
		{"server/types/rest_spec/fleet_proxies.ts (validateUrl)",
			"proxies:\n  - {id: p, name: p, url: 'proxy.example:3128'}\n",
			"Invalid URL"},
		{"server/types/rest_spec/fleet_server_policy_config.ts (secrets.ssl.key next to ssl.key)",
			"fleet_server_hosts:\n  - {id: h, name: h, host_urls: ['https://f:8220'], ssl: {key: {env: A}}, secrets: {ssl: {key: {env: B}}}}\n",
			"Cannot specify both ssl.key and secrets.ssl.key"},
		{"server/types/models/download_sources.ts (secrets.auth.api_key next to auth.api_key)",
			"download_sources:\n  - {id: d, name: d, host: 'https://m/', auth: {api_key: {env: A}}, secrets: {auth: {api_key: {env: B}}}}\n",
			"Cannot specify both auth.api_key and secrets.auth.api_key"},
		{"server/types/rest_spec/fleet_server_policy_config.ts (host_urls minSize 1)",
			"fleet_server_hosts:\n  - {id: h, name: h, host_urls: []}\n",
			"must have at least 1 item"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			fsys := fstest.MapFS{"f.yaml": {Data: []byte(clustersYAML + tt.yaml)}}
			_, err := LoadFiles(t.Context(), fsys, "f.yaml")
			var issues Issues
			if !errors.As(err, &issues) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: want an issue containing %q, got %v", tt.source, tt.want, err)
			}
		})
	}
}
