package reconciler

import (
	"strings"
	"testing"

	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// version_objects.go: a declared agent policy, integration policy or output
// field that the cluster's Kibana version lacks (GET /api/status) is a
// blocked change naming the version it needs, and apply writes nothing for
// it. Each row names the Kibana pull request (version label) the gate
// follows; fleetsim's versions.go refuses the same keys with 400 at the
// version before, so a missing gate would surface as an apply error.
func TestVersion_DeclaredFieldOnOlderClusterIsBlocked(t *testing.T) {
	f := false
	withPolicy := func(mod func(*schema.AgentPolicy)) *schema.Document {
		p := schema.AgentPolicy{ID: "web", Name: "Web", Namespace: "default"}
		mod(&p)
		return &schema.Document{AgentPolicies: []schema.AgentPolicy{p}}
	}
	withIntegration := func(mod func(*schema.PackagePolicy)) *schema.Document {
		doc := ipDoc()
		doc.PackagePolicies[0].Inputs = map[string]schema.PackagePolicyInput{
			"nginx-logfile": {Streams: map[string]schema.PackagePolicyStream{
				"nginx.access": {Vars: schema.Vars{"paths": []any{"/srv/log/access.log"}}},
				"nginx.error":  {Enabled: &f},
			}},
		}
		mod(&doc.PackagePolicies[0])
		return doc
	}
	tests := []struct {
		source         string
		older, newer   string
		doc            *schema.Document
		kind, id, path string
		want           string
		// planOnly: the newer cluster is only planned, not applied (fleetsim
		// does not serve the field).
		planOnly bool
	}{
		{"elastic/kibana#157077 (v8.9.0)", "8.8.2", "8.9.0",
			withPolicy(func(p *schema.AgentPolicy) { p.IsProtected = ptr(false) }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "is_protected needs Kibana 8.9.0", false},
		{"elastic/kibana#168865 (v8.12.0)", "8.11.4", "8.12.0",
			withPolicy(func(p *schema.AgentPolicy) { p.KeepMonitoringAlive = ptr(true) }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "keep_monitoring_alive needs Kibana 8.12.0", false},
		{"elastic/kibana#183563 (v8.15.0)", "8.14.3", "8.15.0",
			withPolicy(func(p *schema.AgentPolicy) { p.GlobalDataTags = []schema.GlobalDataTag{{Name: "team", Value: "ops"}} }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "global_data_tags needs Kibana 8.15.0", false},
		{"elastic/kibana#182709 (v8.15.0)", "8.14.3", "8.15.0",
			withPolicy(func(p *schema.AgentPolicy) { p.SupportsAgentless = ptr(false) }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "supports_agentless needs Kibana 8.15.0", false},
		{"elastic/kibana#193361 (v8.16.0)", "8.15.3", "8.16.0",
			withPolicy(func(p *schema.AgentPolicy) { p.MonitoringHTTP = map[string]any{"enabled": true, "port": 6791.0} }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "monitoring_http needs Kibana 8.16.0", false},
		{"elastic/kibana#193361 (v8.16.0)", "8.15.3", "8.16.0",
			withPolicy(func(p *schema.AgentPolicy) { p.MonitoringPprof = ptr(false) }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "monitoring_pprof_enabled needs Kibana 8.16.0", false},
		{"elastic/kibana#193361 (v8.16.0)", "8.15.3", "8.16.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.MonitoringDiag = map[string]any{"limit": map[string]any{"interval": "1m"}}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "monitoring_diagnostics needs Kibana 8.16.0", false},
		{"elastic/kibana#150239 (v8.7.0)", "8.6.2", "8.7.0",
			withPolicy(func(p *schema.AgentPolicy) { p.AgentFeatures = []schema.AgentFeature{{Name: "fqdn", Enabled: true}} }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "agent_features needs Kibana 8.7.0", false},
		{"elastic/kibana#159414 (v8.9.0)", "8.8.2", "8.9.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.Overrides = map[string]any{"agent": map[string]any{"logging": map[string]any{"level": "debug"}}}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "overrides needs Kibana 8.9.0", false},
		{"elastic/kibana#179795 (v8.14.0)", "8.13.4", "8.14.0",
			withPolicy(func(p *schema.AgentPolicy) { p.AdvancedSettings = map[string]any{"agent_logging_level": "debug"} }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "advanced_settings needs Kibana 8.14.0", false},
		{"elastic/kibana#189663 (v8.16.0)", "8.15.3", "8.16.0",
			withPolicy(func(p *schema.AgentPolicy) { p.SpaceIDs = []string{"default"} }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "space_ids needs Kibana 8.16.0", false},
		{"elastic/kibana#145755 (v8.7.0): output shipper", "8.6.2", "8.7.0",
			&schema.Document{Outputs: []schema.Output{{ID: "ls", Name: "ls", Type: "logstash",
				Hosts: []string{"ls.example:5044"}, ConfigYAML: ptr("shipper:\n  enabled: true\n"), Shipper: map[string]any{"loadbalance": true}}}},
			plan.KindOutput, "ls", "/api/fleet/outputs", "shipper needs Kibana 8.7.0", false},
		{"elastic/kibana#250557, elastic/docs-content#6065 (9.4): download source auth", "9.3.0", "9.4.0",
			&schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/",
				Auth: &schema.DownloadSourceAuth{Headers: []schema.KeyValueEntry{{Key: "X-Token", Value: "t"}}}}}},
			kindDownloadSource, "mirror", "/api/fleet/agent_download_sources", "auth needs Kibana 9.4.0", false},
		{"elastic/kibana#250557, elastic/docs-content#6065 (9.4): download source secrets.auth", "9.3.0", "9.4.0",
			&schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/",
				Secrets: &schema.DownloadSourceSecrets{Auth: &schema.DownloadSourceSecretsAuth{APIKey: env("FS_KEY")}}}}},
			kindDownloadSource, "mirror", "/api/fleet/agent_download_sources", "auth needs Kibana 9.4.0", false},
		{"elastic/kibana#142746 (v8.6.0): the Fleet Server hosts API", "8.5.3", "8.6.0",
			&schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"}}}},
			kindFleetServerHost, "fs", "/api/fleet/fleet_server_hosts", "the /api/fleet/fleet_server_hosts API needs Kibana 8.6.0", false},
		// Applied from 9.1.0: 9.0.x has the key but its automatic upgrades flag is off
		// (TestSim_RequiredVersionsByVersionAndLicence).
		{"elastic/kibana#206600 (v9.0.0)", "8.18.0", "9.1.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.RequiredVersions = []schema.RequiredVersion{{Version: "9.0.0", Percentage: 10}}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "required_versions needs Kibana 9.0.0, or 8.19.0+ on 8.19 (and automatic agent upgrades on, which 9.0.x keeps off by default: Kibana 9.1.0, or 8.19.0+ on 8.19)", false},
		// The same key backported to the 8.19 line (elastic/kibana#217461),
		// with the flag on (elastic/kibana#221210): 8.19.0 applies it.
		{"elastic/kibana#217461, #221210 (8.19)", "8.18.8", "8.19.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.RequiredVersions = []schema.RequiredVersion{{Version: "8.19.0", Percentage: 10}}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "required_versions needs Kibana 9.0.0, or 8.19.0+ on 8.19 (and automatic agent upgrades on, which 9.0.x keeps off by default: Kibana 9.1.0, or 8.19.0+ on 8.19)", false},
		{"elastic/kibana#184636, #188707 (8.15)", "8.14.3", "8.15.0",
			withIntegration(func(p *schema.PackagePolicy) { p.PolicyIDs, p.OutputID = []string{"web"}, schema.Nullable[string]{} }),
			KindIntegrationPolicy, "nginx-web", "/api/fleet/package_policies", "policy_ids needs Kibana 8.15.0", false},
		{"elastic/kibana#187980, #188707 (GA 8.16)", "8.15.0", "8.16.0",
			withIntegration(func(p *schema.PackagePolicy) { p.OutputID = schema.Nullable[string]{} }),
			KindIntegrationPolicy, "nginx-web", "/api/fleet/package_policies", "policy_ids naming more than one agent policy needs Kibana 8.16.0", false},
		{"elastic/kibana#189125 (v8.16.0)", "8.15.0", "8.16.0",
			withIntegration(func(p *schema.PackagePolicy) { p.PolicyIDs = []string{"web"} }),
			KindIntegrationPolicy, "nginx-web", "/api/fleet/package_policies", "output_id needs Kibana 8.16.0", false},
		{"elastic/kibana#210452 (v9.1.0); fleetsim does not serve the key, so the newer side is planned only", "9.0.0", "9.1.0",
			withIntegration(func(p *schema.PackagePolicy) {
				p.PolicyIDs, p.OutputID, p.AdditionalDatastreamsPermissions = []string{"web"}, schema.Nullable[string]{}, []string{"logs-reroute-default"}
			}),
			KindIntegrationPolicy, "nginx-web", "/api/fleet/package_policies", "additional_datastreams_permissions needs Kibana 9.1.0", true},
		{"elastic/kibana#145017 (v8.7.0): output proxy_id", "8.6.2", "8.7.0",
			&schema.Document{Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "https://proxy.example:3128"}},
				Outputs: []schema.Output{{ID: "es-logs", Name: "es logs", Type: "elasticsearch",
					Hosts: []string{"https://logs.example:9200"}, ProxyID: ptr("px")}}},
			plan.KindOutput, "es-logs", "/api/fleet/outputs", "proxy_id needs Kibana 8.7.0", false},
		{"elastic/kibana#145017 (v8.7.0): Fleet Server host proxy_id", "8.6.2", "8.7.0",
			&schema.Document{Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "https://proxy.example:3128"}},
				FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"}, ProxyID: ptr("px")}}},
			kindFleetServerHost, "fs", "/api/fleet/fleet_server_hosts", "proxy_id needs Kibana 8.7.0", false},
		{"elastic/kibana#164078 (v8.11.0)", "8.10.4", "8.11.0",
			&schema.Document{Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "https://proxy.example:3128"}},
				DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/", ProxyID: ptr("px")}}},
			kindDownloadSource, "mirror", "/api/fleet/agent_download_sources", "proxy_id needs Kibana 8.11.0", false},
		{"elastic/kibana#213211, elastic/ingest-docs#1727 (9.1)", "9.0.0", "9.1.0",
			&schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/",
				SSL: &schema.DownloadSourceSSL{CertificateAuthorities: []string{"ca"}}}}},
			kindDownloadSource, "mirror", "/api/fleet/agent_download_sources", "ssl needs Kibana 9.1.0", false},
		{"elastic/kibana#208091, elastic/ingest-docs#1727 (9.1)", "9.0.0", "9.1.0",
			&schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"},
				SSL: &schema.FleetServerHostSSL{CertificateAuthorities: []string{"ca"}}}}},
			kindFleetServerHost, "fs", "/api/fleet/fleet_server_hosts", "ssl needs Kibana 9.1.0", false},
		{"elastic/kibana#208091, elastic/ingest-docs#1727 (9.1)", "9.0.0", "9.1.0",
			&schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"},
				Secrets: &schema.FleetServerHostSecrets{SSL: &schema.FleetServerHostSecretsSSL{Key: env("FS_KEY")}}}}},
			kindFleetServerHost, "fs", "/api/fleet/fleet_server_hosts", "secrets needs Kibana 9.1.0", false},
		{"elastic/kibana#145017 (v8.7.0): the proxies API", "8.6.2", "8.7.0",
			&schema.Document{Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "https://proxy.example:3128"}}},
			kindProxy, "px", "/api/fleet/proxies", "the /api/fleet/proxies API needs Kibana 8.7.0", false},
		{"elastic/kibana#134889 (8.4.0): the download sources API", "8.3.3", "8.4.0",
			&schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/"}}},
			kindDownloadSource, "mirror", "/api/fleet/agent_download_sources", "the /api/fleet/agent_download_sources API needs Kibana 8.4.0", false},
		{"elastic/kibana#234563, elastic/docs-content#3855 (9.2)", "9.1.0", "9.2.0",
			&schema.Document{Outputs: []schema.Output{{ID: "es-logs", Name: "es logs", Type: "elasticsearch",
				Hosts: []string{"https://logs.example:9200"}, WriteToLogsStreams: ptr(true)}}},
			plan.KindOutput, "es-logs", "/api/fleet/outputs", "write_to_logs_streams needs Kibana 9.2.0", false},
		// docs/fleetsim-inferred.md 59.
		{"elastic/kibana#147432 (v8.7.0)", "8.6.2", "8.7.0",
			withPolicy(func(p *schema.AgentPolicy) { p.InactivityTimeout = ptr(int64(3600)) }),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "inactivity_timeout needs Kibana 8.7.0", false},
		{"elastic/kibana#206042 (v8.18.0)", "8.17.4", "8.18.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.Agentless = map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "1Gi", "cpu": "1"}}}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "agentless needs Kibana 8.18.0", false},
		{"elastic/kibana#200274 (8.17, inferred)", "8.16.6", "8.17.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.AdvancedSettings = map[string]any{"agent_logging_level": "debug", "agent_logging_to_files": false}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "advanced_settings.agent_logging_to_files needs Kibana 8.17.0", false},
		{"elastic/kibana#233345 (9.2, inferred)", "9.1.5", "9.2.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.AdvancedSettings = map[string]any{"agent_monitoring_runtime_experimental": "otel"}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "advanced_settings.agent_monitoring_runtime_experimental needs Kibana 9.2.0", false},
		{"elastic/kibana#245819, #248416 (9.3, inferred)", "9.2.3", "9.3.0",
			withPolicy(func(p *schema.AgentPolicy) {
				p.AdvancedSettings = map[string]any{"agent_internal": "agent:\n  internal:\n    runtime:\n      default: otel\n"}
			}),
			plan.KindAgentPolicy, "web", "/api/fleet/agent_policies", "advanced_settings.agent_internal needs Kibana 9.3.0", false},
		{"elastic/kibana#199567 (v8.18.0, v9.0.0)", "8.17.4", "8.18.0",
			withIntegration(func(p *schema.PackagePolicy) {
				p.PolicyIDs, p.OutputID, p.SupportsAgentless = []string{"web"}, schema.Nullable[string]{}, ptr(false)
			}),
			KindIntegrationPolicy, "nginx-web", "/api/fleet/package_policies", "supports_agentless needs Kibana 8.18.0", false},
		{"elastic/kibana#175546, #175983 (8.13): output is_internal", "8.12.2", "8.13.0",
			&schema.Document{Outputs: []schema.Output{{ID: "es-logs", Name: "es logs", Type: "elasticsearch",
				Hosts: []string{"https://logs.example:9200"}, IsInternal: ptr(false)}}},
			plan.KindOutput, "es-logs", "/api/fleet/outputs", "is_internal needs Kibana 8.13.0", false},
		{"elastic/kibana#177229 (v8.13.0): kafka topic", "8.12.2", "8.13.0",
			&schema.Document{Outputs: []schema.Output{{ID: "kafka", Name: "kafka", Type: "kafka",
				Hosts: []string{"kafka.example:9092"}, KafkaFields: schema.KafkaFields{AuthType: "none", Topic: "fleet"}}}},
			plan.KindOutput, "kafka", "/api/fleet/outputs", "topic needs Kibana 8.13.0", false},
		{"elastic/kibana#175983 (v8.13.0): Fleet Server host is_internal", "8.12.2", "8.13.0",
			&schema.Document{FleetServerHosts: []schema.FleetServerHost{{ID: "fs", Name: "fs", HostURLs: []string{"https://fs.example:8220"}, IsInternal: ptr(false)}}},
			kindFleetServerHost, "fs", "/api/fleet/fleet_server_hosts", "is_internal needs Kibana 8.13.0", false},
		{"elastic/kibana#267819 (9.5, inferred): security_artifacts_url", "9.4.0", "9.5.0",
			&schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/",
				SecurityArtifactsURL: ptr("https://defend-artifacts.example/")}}},
			kindDownloadSource, "mirror", "/api/fleet/agent_download_sources", "security_artifacts_url needs Kibana 9.5.0", false},
		{"elastic/kibana#267819 (9.5, inferred): security_artifacts_proxy_id", "9.4.0", "9.5.0",
			&schema.Document{Proxies: []schema.Proxy{{ID: "px", Name: "px", URL: "https://proxy.example:3128"}},
				DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/", SecurityArtifactsProxyID: ptr("px")}}},
			kindDownloadSource, "mirror", "/api/fleet/agent_download_sources", "security_artifacts_proxy_id needs Kibana 9.5.0", false},
	}
	for i := range tests {
		tt := &tests[i]
		t.Run(tt.want, func(t *testing.T) {
			// The older cluster: blocked, naming the version; apply writes nothing for it.
			t.Setenv("FS_KEY", "fleet-server-key")
			h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: tt.older, License: "enterprise"})
			p := h.plan(tt.doc)
			ch := changeOf(p, tt.kind, tt.id)
			if ch == nil || ch.Action != plan.Blocked {
				t.Fatalf("%s on Kibana %s: want a blocked change (%s):\n%s", tt.id, tt.older, tt.source, renderText(p))
			}
			for _, w := range []string{"runs Kibana " + tt.older, tt.want} {
				if !strings.Contains(ch.Reason, w) {
					t.Errorf("reason %q lacks %q", ch.Reason, w)
				}
			}
			h.sim.ClearRequests()
			if _, err := h.r.Apply(t.Context(), tt.doc, nil, ApplyOptions{}); err == nil {
				t.Errorf("apply of a plan with a blocked change succeeded")
			}
			for _, w := range h.writes() {
				if strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(w, "POST "), "PUT "), tt.path) {
					t.Errorf("apply wrote %s for the blocked %s", w, tt.id)
				}
			}

			// The version that has it: not blocked for its version, and applied.
			h = newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: tt.newer, License: "enterprise", SecretStorage: "on"})
			p = h.plan(tt.doc)
			if ch := changeOf(p, tt.kind, tt.id); ch == nil || ch.Action != plan.Create {
				t.Fatalf("%s on Kibana %s: want a create:\n%s", tt.id, tt.newer, renderText(p))
			}
			if !tt.planOnly {
				h.apply(tt.doc)
			}
		})
	}
}

// A download source PUT repeats proxy_id (Kibana's PUT schema resets an
// omitted nullable key), but a Kibana before 8.11 has no such key
// (elastic/kibana#164078) and refuses it: on such a cluster the PUT leaves
// it out (versionLacks), and the update applies.
func TestVersion_PutOmitsKeysTheVersionLacks(t *testing.T) {
	h := newSimHarness(t, fleetsim.ClusterConfig{Name: "main", Version: "8.10.4"})
	doc := &schema.Document{DownloadSources: []schema.DownloadSource{{ID: "mirror", Name: "mirror", Host: "https://mirror.example/downloads/"}}}
	h.apply(doc)
	doc.DownloadSources[0].Host = "https://mirror2.example/downloads/"
	if ch := changeOf(h.plan(doc), kindDownloadSource, "mirror"); ch == nil || ch.Action != plan.Update {
		t.Fatalf("want an update, got %+v", ch)
	}
	h.apply(doc)
	if ch := changeOf(h.plan(doc), kindDownloadSource, "mirror"); ch != nil && ch.Action != plan.NoOp {
		t.Errorf("after apply: %+v", ch)
	}
}
