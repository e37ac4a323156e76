package fleetsim

import (
	"testing"

	"github.com/fleetform/fleetform/internal/kversion"
)

// The 8.19 line (docs/fleetsim-inferred.md item 58): 8.19 was cut after 9.0
// and got some 9.x features by backport, not others. What a cluster at
// version=8.19.x accepts, next to 8.18.x and 9.0.x, for each 9.x gate.
func TestVersions_The8_19Line(t *testing.T) {
	unknown := func(key string) string { return "[request body." + key + "]: definition for this key is missing" }
	rv := []any{map[string]any{"version": "8.19.0", "percentage": 10.0}}
	policyRV := map[string]any{"id": "rv", "name": "rv", "namespace": "default", "required_versions": rv}
	remoteSync := map[string]any{"name": "r", "type": "remote_elasticsearch", "hosts": []any{"https://r.example"},
		"sync_integrations": true, "kibana_url": "https://kb.example"}
	dsSSL := map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "ssl": map[string]any{"certificate_authorities": []any{"ca"}}}
	fshSSL := map[string]any{"name": "fs", "host_urls": []any{"https://fs.example:8220"}, "ssl": map[string]any{"certificate_authorities": []any{"ca"}}}
	logsStreams := map[string]any{"name": "es", "type": "elasticsearch", "hosts": []any{"https://es.example"}, "write_to_logs_streams": true}
	dsAuth := map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "auth": map[string]any{"headers": []any{map[string]any{"key": "X-Token", "value": "t"}}}}
	tests := []struct {
		name, version, license string
		path                   string
		body                   map[string]any
		status                 int
		message                string
	}{
		// required_versions: backported (elastic/kibana#217461), flag on
		// (elastic/kibana#221210) from 8.19.0; 8.18 never had the key, 9.0.x
		// has it with the flag off.
		{"required_versions 8.18", "8.18.8", "enterprise", "/api/fleet/agent_policies", policyRV, 400, unknown("required_versions")},
		{"required_versions 8.19.0", "8.19.0", "enterprise", "/api/fleet/agent_policies", policyRV, 200, ""},
		{"required_versions 8.19.5", "8.19.5", "enterprise", "/api/fleet/agent_policies", policyRV, 200, ""},
		{"required_versions 9.0.3", "9.0.3", "enterprise", "/api/fleet/agent_policies", policyRV, 400,
			`Policy "rv" failed validation: required_versions are not allowed when automatic upgrades feature is disabled`},
		// Not backported to 8.19: remote integrations sync (elastic/kibana#208516,
		// backport:skip, v9.1.0), download source and Fleet Server host SSL
		// (elastic/kibana#213211, #208091), write_to_logs_streams (9.2),
		// download source auth (9.4).
		{"sync_integrations 8.19.5", "8.19.5", "enterprise", "/api/fleet/outputs", remoteSync, 400, unknown("kibana_url")},
		{"download source ssl 8.19.5", "8.19.5", "enterprise", "/api/fleet/agent_download_sources", dsSSL, 400, unknown("ssl")},
		{"Fleet Server host ssl 8.19.5", "8.19.5", "enterprise", "/api/fleet/fleet_server_hosts", fshSSL, 400, unknown("ssl")},
		{"write_to_logs_streams 8.19.5", "8.19.5", "enterprise", "/api/fleet/outputs", logsStreams, 400, unknown("write_to_logs_streams")},
		{"download source auth 8.19.5", "8.19.5", "enterprise", "/api/fleet/agent_download_sources", dsAuth, 400, unknown("auth")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version, License: tc.license})
			r := kb.do("POST", tc.path, tc.body)
			if tc.status == 200 {
				r.must(t, 200)
				return
			}
			r.wantError(t, tc.status, tc.message)
		})
	}
	// The remote-sync routes are not on 8.19 either (404).
	for v, want := range map[string]int{"8.19.5": 404, "9.0.3": 404, "9.1.0": 200} {
		_, kb := startMain(t, ClusterConfig{Name: "main", Version: v})
		if r := kb.do("GET", "/api/fleet/remote_synced_integrations/status", nil); r.Status != want {
			t.Errorf("%s: GET remote_synced_integrations/status = %d, want %d: %s", v, r.Status, want, r.Raw)
		}
	}
}

// Every gate of versions.go and of the per-line constants is of
// kversion.Gate's form, so a typo cannot silently gate a feature away.
func TestVersions_GatesAreWellFormed(t *testing.T) {
	gates := []kversion.Gate{gateRequiredVersions, gateAutomaticUpgrades, gateRequiredVersionsLicence, versionAgentlessDeleteWithAgents}
	for _, f := range versionedFields {
		gates = append(gates, f.since)
	}
	for _, r := range versionedRoutes {
		gates = append(gates, kversion.Gate(r.since))
	}
	for _, g := range gates {
		if err := g.Validate(); err != nil {
			t.Error(err)
		}
	}
}
