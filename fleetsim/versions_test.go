package fleetsim

import (
	"testing"
)

// versions.go: a cluster's version= decides which output fields and routes
// exist; a field the version does not know is an unknown key (400), a route
// it does not have is a 404.
func TestVersions_FieldsAndRoutesFollowTheClusterVersion(t *testing.T) {
	remoteSync := map[string]any{"name": "r", "type": "remote_elasticsearch", "hosts": []any{"https://r.example"},
		"sync_integrations": true, "kibana_url": "https://kb.example"}
	secretKafka := map[string]any{"name": "k", "type": "kafka", "hosts": []any{"k.example:9092"}, "auth_type": "user_pass",
		"username": "u", "secrets": map[string]any{"password": "p"}}
	plainKafka := map[string]any{"name": "k0", "type": "kafka", "hosts": []any{"k.example:9092"}, "auth_type": "none"}
	plainRemote := map[string]any{"name": "r0", "type": "remote_elasticsearch", "hosts": []any{"https://r.example"}, "service_token": "t"}
	for _, tc := range []struct {
		version string
		body    map[string]any
		status  int
		message string
	}{
		{"8.15.0", remoteSync, 400, "[request body.kibana_url]: definition for this key is missing"},
		{"9.0.0", remoteSync, 400, "[request body.kibana_url]: definition for this key is missing"},
		{"9.1.0", remoteSync, 200, ""},
		{"8.11.0", plainRemote, 400, `[request body]: expected "type" to be one of ["elasticsearch", "logstash", "kafka"] but got ["remote_elasticsearch"]`},
		{"8.12.0", plainRemote, 200, ""},
		{"8.11.0", secretKafka, 400, "[request body.secrets]: definition for this key is missing"},
		{"8.12.0", secretKafka, 200, ""},
		// elastic/kibana#159110 (v8.10.0) added the kafka type.
		{"8.9.3", plainKafka, 400, `[request body]: expected "type" to be one of ["elasticsearch", "logstash"] but got ["kafka"]`},
		{"8.10.0", plainKafka, 200, ""},
	} {
		t.Run(tc.version+" "+tc.body["name"].(string), func(t *testing.T) {
			_, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version})
			r := kb.do("POST", "/api/fleet/outputs", tc.body)
			if tc.status == 200 {
				r.must(t, 200)
				return
			}
			r.wantError(t, tc.status, tc.message)
		})
	}
	for _, tc := range []struct {
		version string
		status  int
	}{{"8.15.0", 404}, {"9.0.0", 404}, {"9.1.0", 200}} {
		_, kb := startMain(t, ClusterConfig{Name: "main", Version: tc.version})
		if r := kb.do("GET", "/api/fleet/remote_synced_integrations/status", nil); r.Status != tc.status {
			t.Errorf("%s: GET remote_synced_integrations/status = %d, want %d: %s", tc.version, r.Status, tc.status, r.Raw)
		}
	}
}

// GET /api/status answers version.number with the cluster's version, the
// shape of Kibana's status route (core-status-server-internal, routes/status.ts).
func TestVersions_StatusReportsVersionNumber(t *testing.T) {
	for _, v := range []string{"8.15.0", "9.1.0"} {
		_, kb := startMain(t, ClusterConfig{Name: "main", Version: v})
		r := kb.do("GET", "/api/status", nil).must(t, 200)
		if got := getPathT(r.Body, "version", "number"); got != v {
			t.Errorf("version.number = %v, want %s", got, v)
		}
	}
}

// versions.go versionPresets: before 8.12 an output has no preset, sent or served.
func TestVersions_PresetFrom8_12(t *testing.T) {
	body := map[string]any{"name": "es", "type": "elasticsearch", "hosts": []any{"https://es.example"}}
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "8.11.0"})
	item := kb.do("POST", "/api/fleet/outputs", body).must(t, 200).item()
	if v, has := item["preset"]; has {
		t.Errorf("8.11: preset = %v, want absent", v)
	}
	withPreset := map[string]any{"name": "es2", "type": "elasticsearch", "hosts": []any{"https://es.example"}, "preset": "balanced"}
	kb.do("POST", "/api/fleet/outputs", withPreset).wantError(t, 400, "[request body.preset]: definition for this key is missing")
	_, kb = startMain(t, ClusterConfig{Name: "main", Version: "8.12.0"})
	if v := kb.do("POST", "/api/fleet/outputs", body).must(t, 200).item()["preset"]; v != "balanced" {
		t.Errorf("8.12: preset = %v, want balanced", v)
	}
}

func TestVersions_DefaultOutputHasNoPresetBefore8_12(t *testing.T) {
	_, kb := startMain(t, ClusterConfig{Name: "main", Version: "8.11.0"})
	if v, has := kb.do("GET", "/api/fleet/outputs/fleet-default-output", nil).must(t, 200).item()["preset"]; has {
		t.Errorf("preset = %v, want absent", v)
	}
}

// version= must name a stack version, or it would silently compare as 0.0.0.
func TestVersions_ClusterFlagVersionMustBeAStackVersion(t *testing.T) {
	for _, tc := range []struct {
		flag string
		ok   bool
	}{
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=8.15.0", true},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=9.1.0-SNAPSHOT", true},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=8.15", false},
		{"main,kibana=127.0.0.1:0,es=127.0.0.1:0,version=latest", false},
	} {
		cfg, err := ParseClusterFlag(tc.flag)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.flag, err, tc.ok)
		}
		if tc.ok && cfg.Version == "" {
			t.Errorf("%s: version not set", tc.flag)
		}
	}
}
