package fleetsim

import (
	"strings"
	"testing"
)

// Trap 29: Kibana's config-time validation rejects a default output listed
// before a separate default-monitoring output.
func TestPreconfig_DefaultBeforeSeparateMonitoringDefaultRejected(t *testing.T) {
	for _, tc := range []struct {
		name    string
		outputs []map[string]any
		want    string
	}{
		{"data default first", []map[string]any{
			{"id": "a", "name": "a", "type": "elasticsearch", "hosts": []any{"https://a"}, "is_default": true},
			{"id": "b", "name": "b", "type": "elasticsearch", "hosts": []any{"https://b"}, "is_default_monitoring": true},
		}, "preconfigured outputs can only have one default monitoring output."},
		{"monitoring default first", []map[string]any{
			{"id": "b", "name": "b", "type": "elasticsearch", "hosts": []any{"https://b"}, "is_default_monitoring": true},
			{"id": "a", "name": "a", "type": "elasticsearch", "hosts": []any{"https://a"}, "is_default": true},
		}, ""},
		{"duplicate names", []map[string]any{
			{"id": "a", "name": "same", "type": "elasticsearch", "hosts": []any{"https://a"}},
			{"id": "b", "name": "same", "type": "elasticsearch", "hosts": []any{"https://b"}},
		}, "preconfigured outputs need to have unique names."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := StartTest(t, Options{})
			err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": {Outputs: tc.outputs}}})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// Trap 28: setup ignores kibana.yml changes to plain service_token and
// kibana_api_key, but applies kibana_url; secret refs with a matching hash
// keep their secret.
func TestPreconfig_SetupIgnoresPlainTokenAndKibanaAPIKeyChanges(t *testing.T) {
	s, kb := startMain(t, ClusterConfig{Name: "main", SecretStorage: "off"})
	base := map[string]any{"id": "pre-remote", "name": "pre-remote", "type": "remote_elasticsearch", "hosts": []any{"https://r.example:443"},
		"service_token": "token-a", "kibana_api_key": "key-a", "kibana_url": "https://kb-a"}
	seedPreconfigured(t, s, base)
	changed := cloneMap(base)
	changed["service_token"], changed["kibana_api_key"] = "token-b", "key-b"
	if err := s.SetPreconfiguredOutputs("main", []map[string]any{changed}); err != nil {
		t.Fatal(err)
	}
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	item := kb.do("GET", "/api/fleet/outputs/pre-remote", nil).must(t, 200).item()
	if item["service_token"] != "token-a" || item["kibana_api_key"] != "key-a" {
		t.Errorf("setup applied ignored fields: %v %v", item["service_token"], item["kibana_api_key"])
	}
	changed["kibana_url"] = "https://kb-b"
	if err := s.SetPreconfiguredOutputs("main", []map[string]any{changed}); err != nil {
		t.Fatal(err)
	}
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	item = kb.do("GET", "/api/fleet/outputs/pre-remote", nil).must(t, 200).item()
	if item["kibana_url"] != "https://kb-b" || item["service_token"] != "token-b" {
		t.Errorf("a compared change rewrites the whole output: %v", item)
	}
}

func TestPreconfig_SecretWithMatchingHashKeptAcrossSetup(t *testing.T) {
	s, kb := startMain(t)
	out := map[string]any{"id": "pre", "name": "pre", "type": "remote_elasticsearch", "hosts": []any{"https://r.example:443"},
		"secrets": map[string]any{"service_token": "tok"}}
	seedPreconfigured(t, s, out)
	first := kb.do("GET", "/api/fleet/outputs/pre", nil).must(t, 200).item()
	ref := getPathT(first, "secrets", "service_token").(map[string]any)
	if h, _ := ref["hash"].(string); h == "" {
		t.Fatalf("preconfigured secret has no hash: %v", ref)
	}
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	again := kb.do("GET", "/api/fleet/outputs/pre", nil).must(t, 200).item()
	if getPathT(again, "secrets", "service_token", "id") != ref["id"] {
		t.Errorf("unchanged secret rewritten by setup")
	}
	out2 := cloneMap(out)
	out2["secrets"] = map[string]any{"service_token": "rotated"}
	if err := s.SetPreconfiguredOutputs("main", []map[string]any{out2}); err != nil {
		t.Fatal(err)
	}
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	rotated := kb.do("GET", "/api/fleet/outputs/pre", nil).must(t, 200).item()
	if getPathT(rotated, "secrets", "service_token", "id") == ref["id"] {
		t.Errorf("changed secret kept its id")
	}
	if _, ok := s.Cluster("main").ES().GetFleetSecret(ref["id"].(string)); ok {
		t.Errorf("old secret not deleted")
	}
}
