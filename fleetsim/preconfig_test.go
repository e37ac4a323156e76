package fleetsim

import (
	"reflect"
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

// kibana.yml's xpack.fleet.binaryDownloadSource, following
// services/preconfiguration/download_source.ts and its test
// (download_source.test.ts): created with its id and marked preconfigured;
// a second setup writes nothing; a compared change updates the source and
// bumps the agent policies using it; a source dropped from kibana.yml is
// deleted, or only unmarked while an agent policy uses it or it is the
// default.
func TestPreconfig_DownloadSources(t *testing.T) {
	s, kb := startMain(t)
	mirror := map[string]any{"id": "mirror", "name": "Mirror", "host": "https://mirror.example/downloads/",
		"ssl": map[string]any{"certificate_authorities": []any{"ca-pem"}}}
	spare := map[string]any{"id": "spare", "name": "Spare", "host": "https://spare.example/downloads/"}
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": {DownloadSources: []map[string]any{mirror, spare}}}}); err != nil {
		t.Fatal(err)
	}
	got := kb.do("GET", "/api/fleet/agent_download_sources/mirror", nil).must(t, 200).item()
	want := map[string]any{"id": "mirror", "name": "Mirror", "host": "https://mirror.example/downloads/", "is_default": false,
		"is_preconfigured": true, "ssl": map[string]any{"certificate_authorities": []any{"ca-pem"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("preconfigured source:\n got %v\nwant %v", got, want)
	}
	kb.do("POST", "/api/fleet/agent_policies", map[string]any{"id": "p", "name": "p", "namespace": "default", "download_source_id": "mirror"}).must(t, 200)
	revision := func() float64 {
		return kb.do("GET", "/api/fleet/agent_policies/p", nil).must(t, 200).item()["revision"].(float64)
	}
	rev := revision()

	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	if r := revision(); r != rev {
		t.Errorf("an unchanged kibana.yml bumped the policy: revision %v → %v", rev, r)
	}

	moved := cloneMap(mirror)
	moved["host"] = "https://mirror2.example/downloads/"
	if err := s.SetPreconfiguredDownloadSources("main", []map[string]any{moved}); err != nil {
		t.Fatal(err)
	}
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	if h := kb.do("GET", "/api/fleet/agent_download_sources/mirror", nil).must(t, 200).item()["host"]; h != "https://mirror2.example/downloads/" {
		t.Errorf("host after setup = %v", h)
	}
	if r := revision(); r != rev+1 {
		t.Errorf("a changed host: revision %v → %v, want one bump", rev, r)
	}
	// spare, dropped and unused, is deleted.
	kb.do("GET", "/api/fleet/agent_download_sources/spare", nil).must(t, 404)

	// mirror, dropped but used by p, is only unmarked.
	if err := s.SetPreconfiguredDownloadSources("main", nil); err != nil {
		t.Fatal(err)
	}
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	if item := kb.do("GET", "/api/fleet/agent_download_sources/mirror", nil).must(t, 200).item(); item["is_preconfigured"] != false {
		t.Errorf("dropped source in use: %v, want kept with is_preconfigured false", item)
	}
}

// Kibana validates kibana.yml at start: a key its download source schema
// lacks, or a host that is not a URI, stops it.
func TestPreconfig_DownloadSourcesRefusedByConfigValidation(t *testing.T) {
	s := StartTest(t, Options{})
	for _, tc := range []struct {
		name string
		src  map[string]any
		want string
	}{
		{"auth", map[string]any{"id": "m", "name": "m", "host": "https://m.example/", "auth": map[string]any{"username": "u"}},
			"[config validation of [xpack.fleet].binaryDownloadSource.0.auth]: definition for this key is missing"},
		{"no id", map[string]any{"name": "m", "host": "https://m.example/"},
			"[config validation of [xpack.fleet].binaryDownloadSource.0.id]: expected value of type [string] but got [undefined]"},
		{"host", map[string]any{"id": "m", "name": "m", "host": "mirror"},
			"[config validation of [xpack.fleet].binaryDownloadSource.0.host]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SetPreconfiguredDownloadSources("main", []map[string]any{tc.src})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// A default source dropped from kibana.yml is unmarked, not deleted, even
// when no agent policy uses it (download_source.test.ts "should unmark a
// removed default preconfigured source instead of deleting it").
func TestPreconfig_DroppedDefaultDownloadSourceKept(t *testing.T) {
	s, kb := startMain(t)
	def := map[string]any{"id": "mirror", "name": "Mirror", "host": "https://mirror.example/downloads/", "is_default": true}
	if err := s.Seed(&SeedFile{Clusters: map[string]*ClusterSeed{"main": {DownloadSources: []map[string]any{def}}}}); err != nil {
		t.Fatal(err)
	}
	if old := kb.do("GET", "/api/fleet/agent_download_sources/fleet-default-download-source", nil).must(t, 200).item(); old["is_default"] != false {
		t.Errorf("the preconfigured default left the built-in one default: %v", old)
	}
	if err := s.SetPreconfiguredDownloadSources("main", nil); err != nil {
		t.Fatal(err)
	}
	kb.do("POST", "/api/fleet/setup", nil).must(t, 200)
	item := kb.do("GET", "/api/fleet/agent_download_sources/mirror", nil).must(t, 200).item()
	if item["is_preconfigured"] != false || item["is_default"] != true {
		t.Errorf("dropped default source: %v, want kept, default, unmarked", item)
	}
}
