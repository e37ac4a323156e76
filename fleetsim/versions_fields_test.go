package fleetsim

import (
	"fmt"
	"strings"
	"testing"
)

// versions.go versionedFields: a body key a Kibana version does not know is
// refused as an unknown key ("[request body.<key>]: definition for this key
// is missing", @kbn/config-schema's ObjectType), and accepted from the
// version that added it. Each row cites the Kibana pull request (and its
// version label) the gate follows.
func TestVersions_VersionedBodyKeys(t *testing.T) {
	policy := func(key string, v any) map[string]any {
		return map[string]any{"name": "p-" + key, "namespace": "default", key: v}
	}
	tests := []struct {
		source        string
		key           string
		before, since string
		method, path  string
		body          map[string]any
		needsPolicyP1 bool
	}{
		{"elastic/kibana#150239 (v8.7.0)", "agent_features", "8.6.2", "8.7.0", "POST", "/api/fleet/agent_policies",
			policy("agent_features", []any{map[string]any{"name": "fqdn", "enabled": true}}), false},
		{"elastic/kibana#159414 (v8.9.0)", "overrides", "8.8.2", "8.9.0", "POST", "/api/fleet/agent_policies",
			policy("overrides", map[string]any{"agent": map[string]any{"logging": map[string]any{"level": "debug"}}}), false},
		{"elastic/kibana#179795 (v8.14.0)", "advanced_settings", "8.13.4", "8.14.0", "POST", "/api/fleet/agent_policies",
			policy("advanced_settings", map[string]any{"agent_logging_level": "debug"}), false},
		{"elastic/kibana#189663 (v8.16.0)", "space_ids", "8.15.3", "8.16.0", "POST", "/api/fleet/agent_policies",
			policy("space_ids", []any{"default"}), false},
		{"elastic/kibana#145755 (v8.7.0)", "shipper", "8.6.2", "8.7.0", "POST", "/api/fleet/outputs",
			map[string]any{"name": "ls", "type": "logstash", "hosts": []any{"ls.example:5044"}, "shipper": map[string]any{"loadbalance": true}}, false},
		{"elastic/kibana#157688 (v8.9.0)", "allow_edit", "8.8.2", "8.9.0", "POST", "/api/fleet/outputs",
			map[string]any{"name": "es", "type": "elasticsearch", "hosts": []any{"https://es.example"}, "allow_edit": []any{"name"}}, false},
		{"elastic/kibana#250557, elastic/docs-content#6065 (9.4)", "auth", "9.3.0", "9.4.0", "POST", "/api/fleet/agent_download_sources",
			map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "auth": map[string]any{"headers": []any{map[string]any{"key": "X-Token", "value": "t"}}}}, false},
		{"elastic/kibana#157077 (v8.9.0)", "is_protected", "8.8.2", "8.9.0", "POST", "/api/fleet/agent_policies",
			policy("is_protected", false), false},
		{"elastic/kibana#168865 (v8.12.0)", "keep_monitoring_alive", "8.11.4", "8.12.0", "POST", "/api/fleet/agent_policies",
			policy("keep_monitoring_alive", true), false},
		{"elastic/kibana#183563 (v8.15.0)", "global_data_tags", "8.14.3", "8.15.0", "POST", "/api/fleet/agent_policies",
			policy("global_data_tags", []any{map[string]any{"name": "team", "value": "ops"}}), false},
		{"elastic/kibana#182709 (v8.15.0)", "supports_agentless", "8.14.3", "8.15.0", "POST", "/api/fleet/agent_policies",
			policy("supports_agentless", false), false},
		{"elastic/kibana#193361 (v8.16.0)", "monitoring_http", "8.15.3", "8.16.0", "POST", "/api/fleet/agent_policies",
			policy("monitoring_http", map[string]any{"enabled": true, "port": 6791.0}), false},
		{"elastic/kibana#193361 (v8.16.0)", "monitoring_pprof_enabled", "8.15.3", "8.16.0", "POST", "/api/fleet/agent_policies",
			policy("monitoring_pprof_enabled", false), false},
		{"elastic/kibana#193361 (v8.16.0)", "monitoring_diagnostics", "8.15.3", "8.16.0", "POST", "/api/fleet/agent_policies",
			policy("monitoring_diagnostics", map[string]any{"limit": map[string]any{"interval": "1m", "burst": 1.0}}), false},
		{"elastic/kibana#206600 (v9.0.0)", "required_versions", "8.18.0", "9.0.0", "POST", "/api/fleet/agent_policies",
			policy("required_versions", nil), false}, // null: 9.0.x refuses a list (validateRequiredVersions, policies_required_versions_test.go)
		{"elastic/kibana#206600 (v9.0.0), update", "required_versions", "8.18.0", "9.0.0", "PUT", "/api/fleet/agent_policies/p1",
			map[string]any{"name": "P p1", "namespace": "default", "required_versions": nil}, true},
		{"elastic/kibana#184636, #188707 (8.15)", "policy_ids", "8.14.3", "8.15.0", "POST", "/api/fleet/package_policies",
			nginxSimplified("nginx-1", "p1"), true},
		{"elastic/kibana#210452 (v9.1.0, backport:skip)", "additional_datastreams_permissions", "9.0.4", "9.1.0", "POST", "/api/fleet/package_policies",
			withKey(nginxSimplified("nginx-adp", "p1"), "additional_datastreams_permissions", []any{"logs-extra-default"}), true},
		{"elastic/kibana#145017 (v8.7.0)", "proxy_id", "8.6.2", "8.7.0", "POST", "/api/fleet/outputs",
			map[string]any{"name": "es", "type": "elasticsearch", "hosts": []any{"https://es.example"}, "proxy_id": "px"}, false},
		{"elastic/kibana#145017 (v8.7.0)", "proxy_id", "8.6.2", "8.7.0", "POST", "/api/fleet/fleet_server_hosts",
			map[string]any{"name": "fs", "host_urls": []any{"https://fs.example:8220"}, "proxy_id": "px"}, false},
		{"elastic/kibana#164078 (v8.11.0)", "proxy_id", "8.10.4", "8.11.0", "POST", "/api/fleet/agent_download_sources",
			map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "proxy_id": "px"}, false},
		{"elastic/kibana#213211, elastic/ingest-docs#1727 (9.1)", "ssl", "9.0.0", "9.1.0", "POST", "/api/fleet/agent_download_sources",
			map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "ssl": map[string]any{"certificate_authorities": []any{"ca"}}}, false},
		{"elastic/kibana#213211, elastic/ingest-docs#1727 (9.1)", "secrets", "9.0.0", "9.1.0", "POST", "/api/fleet/agent_download_sources",
			map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "ssl": map[string]any{"certificate": "cert"},
				"secrets": map[string]any{"ssl": map[string]any{"key": "k"}}}, false},
		{"elastic/kibana#208091, elastic/ingest-docs#1727 (9.1)", "ssl", "9.0.0", "9.1.0", "POST", "/api/fleet/fleet_server_hosts",
			map[string]any{"name": "fs", "host_urls": []any{"https://fs.example:8220"}, "ssl": map[string]any{"certificate_authorities": []any{"ca"}}}, false},
		{"elastic/kibana#208091, elastic/ingest-docs#1727 (9.1)", "secrets", "9.0.0", "9.1.0", "POST", "/api/fleet/fleet_server_hosts",
			map[string]any{"name": "fs", "host_urls": []any{"https://fs.example:8220"}, "ssl": map[string]any{"certificate": "cert"},
				"secrets": map[string]any{"ssl": map[string]any{"key": "k"}}}, false},
		// docs/fleetsim-inferred.md 59.
		{"elastic/kibana#147432 (v8.7.0)", "inactivity_timeout", "8.6.2", "8.7.0", "POST", "/api/fleet/agent_policies",
			policy("inactivity_timeout", 3600.0), false},
		{"elastic/kibana#206042 (v8.18.0)", "agentless", "8.17.4", "8.18.0", "POST", "/api/fleet/agent_policies",
			policy("agentless", map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "1Gi", "cpu": "1"}}}), false},
		{"elastic/kibana#199567 (v8.18.0, v9.0.0)", "supports_agentless", "8.17.4", "8.18.0", "POST", "/api/fleet/package_policies",
			withKey(nginxSimplified("nginx-sa", "p1"), "supports_agentless", false), true},
		{"elastic/kibana#175983 (v8.13.0)", "is_internal", "8.12.2", "8.13.0", "POST", "/api/fleet/fleet_server_hosts",
			map[string]any{"name": "fs", "host_urls": []any{"https://fs.example:8220"}, "is_internal": false}, false},
		{"elastic/kibana#175546, #175983 (8.13)", "is_internal", "8.12.2", "8.13.0", "POST", "/api/fleet/outputs",
			map[string]any{"name": "es", "type": "elasticsearch", "hosts": []any{"https://es.example"}, "is_internal": false}, false},
		{"elastic/kibana#177229 (v8.13.0)", "topic", "8.12.2", "8.13.0", "POST", "/api/fleet/outputs",
			map[string]any{"name": "k", "type": "kafka", "hosts": []any{"kafka.example:9092"}, "auth_type": "none", "topic": "t"}, false},
		{"elastic/kibana#267819 (9.5, inferred)", "security_artifacts_url", "9.4.0", "9.5.0", "POST", "/api/fleet/agent_download_sources",
			map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "security_artifacts_url": "https://defend.example/"}, false},
		{"elastic/kibana#267819 (9.5, inferred)", "security_artifacts_proxy_id", "9.4.0", "9.5.0", "POST", "/api/fleet/agent_download_sources",
			map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/", "security_artifacts_proxy_id": "px"}, false},
		{"elastic/kibana#200274 (8.17, inferred)", "advanced_settings.agent_logging_to_files", "8.16.6", "8.17.0", "POST", "/api/fleet/agent_policies",
			policy("advanced_settings", map[string]any{"agent_logging_to_files": false}), false},
		{"elastic/kibana#200274 (8.17, inferred)", "advanced_settings.agent_logging_files_rotateeverybytes", "8.16.6", "8.17.0", "POST", "/api/fleet/agent_policies",
			policy("advanced_settings", map[string]any{"agent_logging_files_rotateeverybytes": 1048576.0}), false},
		{"elastic/kibana#200274 (8.17, inferred)", "advanced_settings.agent_logging_files_keepfiles", "8.16.6", "8.17.0", "POST", "/api/fleet/agent_policies",
			policy("advanced_settings", map[string]any{"agent_logging_files_keepfiles": 7.0}), false},
		{"elastic/kibana#200274 (8.17, inferred)", "advanced_settings.agent_logging_files_interval", "8.16.6", "8.17.0", "POST", "/api/fleet/agent_policies",
			policy("advanced_settings", map[string]any{"agent_logging_files_interval": "24h"}), false},
		{"elastic/kibana#233345 (9.2, inferred)", "advanced_settings.agent_monitoring_runtime_experimental", "9.1.5", "9.2.0", "POST", "/api/fleet/agent_policies",
			policy("advanced_settings", map[string]any{"agent_monitoring_runtime_experimental": "otel"}), false},
		{"elastic/kibana#245819, #248416 (9.3, inferred)", "advanced_settings.agent_internal", "9.2.3", "9.3.0", "PUT", "/api/fleet/agent_policies/p1",
			map[string]any{"name": "P p1", "namespace": "default", "advanced_settings": map[string]any{"agent_internal": "agent:\n  internal:\n    runtime:\n      default: otel\n"}}, true},
		// Keys that came with advanced_settings (elastic/kibana#179795, #180607).
		{"elastic/kibana#180607 (v8.14.0)", "advanced_settings", "8.13.4", "8.14.0", "POST", "/api/fleet/agent_policies",
			policy("advanced_settings", map[string]any{"agent_logging_level": "debug", "agent_download_timeout": "2h",
				"agent_download_target_directory": "/tmp/agent"}), false},
	}
	for _, tc := range tests {
		for _, version := range []string{tc.before, tc.since} {
			t.Run(fmt.Sprintf("%s %s %s", tc.key, tc.method, version), func(t *testing.T) {
				_, kb := startMain(t, ClusterConfig{Name: "main", Version: version})
				if tc.needsPolicyP1 {
					newAgentPolicy(t, kb, "p1")
				}
				if strings.HasSuffix(tc.key, "proxy_id") && version == tc.since {
					kb.do("POST", "/api/fleet/proxies", map[string]any{"id": "px", "name": "px", "url": "https://proxy.example:3128"}).must(t, 200)
				}
				r := kb.do(tc.method, tc.path, tc.body)
				if version == tc.before {
					r.wantError(t, 400, "[request body."+tc.key+"]: definition for this key is missing")
					return
				}
				r.must(t, 200)
			})
		}
	}
}

// An 8.14 Kibana takes a package policy's agent policy as policy_id (the
// only form before elastic/kibana#184636).
func TestVersions_PolicyIDBeforePolicyIDs(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "8.14.3"})
	newAgentPolicy(t, kb, "p1")
	body := nginxSimplified("nginx-1")
	delete(body, "policy_ids")
	body["policy_id"] = "p1"
	kb.do("POST", "/api/fleet/package_policies", body).must(t, 200)
}

// write_to_logs_streams (versions.go versionWriteToLogsStreams; the setting
// is on a 9.2.0 SNAPSHOT in elastic/kibana#234563, documented for 9.2 by
// elastic/docs-content#3855).
func TestVersions_WriteToLogsStreamsFrom9_2(t *testing.T) {
	body := map[string]any{"name": "es", "type": "elasticsearch", "hosts": []any{"https://es.example"}, "write_to_logs_streams": true}
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.1.0"})
	kb.do("POST", "/api/fleet/outputs", body).wantError(t, 400, "[request body.write_to_logs_streams]: definition for this key is missing")
	_, kb = startMain(t, ClusterConfig{Name: "main", Version: "9.2.0"})
	kb.do("POST", "/api/fleet/outputs", body).must(t, 200)
}

// versions.go versionedRoutes: the proxies API came with 8.7.0
// (elastic/kibana#145017), the agent download sources API with 8.4.0
// (elastic/kibana#134889), the Fleet Server hosts API with 8.6.0
// (elastic/kibana#142746); before, Kibana has no such route (404).
func TestVersions_LateRoutesAre404Before(t *testing.T) {
	for _, tc := range []struct {
		path          string
		before, since string
	}{
		{"/api/fleet/proxies", "8.6.2", "8.7.0"},
		{"/api/fleet/agent_download_sources", "8.3.3", "8.4.0"},
		{"/api/fleet/fleet_server_hosts", "8.5.3", "8.6.0"}, // elastic/kibana#142746 (v8.6.0)
	} {
		for _, v := range []string{tc.before, tc.since} {
			_, kb := startMain(t, ClusterConfig{Name: "main", Version: v})
			want := 200
			if v == tc.before {
				want = 404
			}
			if r := kb.do("GET", tc.path, nil); r.Status != want {
				t.Errorf("%s: GET %s = %d, want %d: %s", v, tc.path, r.Status, want, r.Raw)
			}
		}
	}
}

// versions.go versionReusablePolicies: 8.15 refuses a package policy on
// several agent policies (elastic/kibana#187980), 8.16 takes it
// (elastic/kibana#188707).
func TestVersions_SharedPackagePolicyFrom8_16(t *testing.T) {
	for _, v := range []string{"8.15.0", "8.16.0"} {
		_, kb := startMain(t, ClusterConfig{Name: "main", Version: v, License: "enterprise"})
		newAgentPolicy(t, kb, "p1")
		newAgentPolicy(t, kb, "p2")
		r := kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-1", "p1", "p2"))
		if v == "8.15.0" {
			r.wantError(t, 400, "Reusable integration policies are not supported")
			kb.do("POST", "/api/fleet/package_policies", nginxSimplified("nginx-2", "p1")).must(t, 200)
			continue
		}
		r.must(t, 200)
	}
}

// Download source secrets.auth came with auth (versions.go
// versionDownloadSourceAuth): 9.3 knows secrets.ssl but not secrets.auth.
func TestVersions_DownloadSourceSecretsAuthFrom9_4(t *testing.T) {
	body := func() map[string]any {
		return map[string]any{"name": "mirror", "host": "https://mirror.example/downloads/",
			"secrets": map[string]any{"auth": map[string]any{"api_key": "k"}}}
	}
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "9.3.0"})
	kb.do("POST", "/api/fleet/agent_download_sources", body()).wantError(t, 400, "[request body.secrets.auth]: definition for this key is missing")
	kb.do("POST", "/api/fleet/agent_download_sources", map[string]any{"name": "tls", "host": "https://tls.example/downloads/",
		"ssl": map[string]any{"certificate": "cert"}, "secrets": map[string]any{"ssl": map[string]any{"key": "k"}}}).must(t, 200)
	_, kb = startMain(t, ClusterConfig{Name: "main", Version: "9.4.0"})
	kb.do("POST", "/api/fleet/agent_download_sources", body()).must(t, 200)
}

// withKey returns body with key set to v.
func withKey(body map[string]any, key string, v any) map[string]any {
	body[key] = v
	return body
}
